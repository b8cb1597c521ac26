import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../../platform/config/app-config.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';
import { QueueSchedules } from '../../../platform/queue/queue-schedules.js';

const SWEEP = 'maintenance.sweep-webhook-inbox';

/**
 * In worker processes: schedules the inbox sweep every WEBHOOK_SWEEP_INTERVAL_MS (configurable, unlike
 * the fixed schedules of the registry) and removes schedules left by another interval. Kept by
 * `QueueSchedules`, so that it comes back by itself after Redis lost it.
 */
@Injectable()
export class WebhooksBootstrap implements OnApplicationBootstrap {
  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobQueue,
    private readonly schedules: QueueSchedules,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.runsWorkers) return;
    const every = this.config.webhooks.sweepIntervalMs;
    const queue = this.jobs.queueFor(SWEEP);
    for (const repeatable of await queue.getRepeatableJobs()) {
      if (repeatable.name === SWEEP && Number(repeatable.every) !== every) {
        await queue.removeRepeatableByKey(repeatable.key);
      }
    }
    await this.schedules.keep(SWEEP, every);
  }
}
