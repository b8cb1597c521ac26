import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../../platform/config/app-config.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';
import { JOBS } from '../../../platform/queue/queue.registry.js';

const SWEEP = 'maintenance.sweep-webhook-inbox';

/**
 * In worker processes: schedules the inbox sweep every WEBHOOK_SWEEP_INTERVAL_MS (configurable, unlike
 * the fixed schedules of the registry) and removes schedules left by another interval.
 */
@Injectable()
export class WebhooksBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('WebhooksBootstrap');

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobQueue,
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
    await queue.add(
      SWEEP,
      { correlationId: `schedule:${SWEEP}`, payload: {} },
      { ...JOBS[SWEEP].options, repeat: { every }, jobId: `repeat:${SWEEP}` },
    );
    this.logger.log(`scheduled ${SWEEP} every ${every} ms`);
  }
}
