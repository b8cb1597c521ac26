import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../../platform/config/app-config.js';
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
    private readonly schedules: QueueSchedules,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.runsWorkers) return;
    await this.schedules.keepOnly(SWEEP, this.config.webhooks.sweepIntervalMs);
  }
}
