import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../../platform/config/app-config.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';
import { QueueSchedules } from '../../../platform/queue/queue-schedules.js';

const CATCH_UP = 'maintenance.dunning-catch-up';

/**
 * In worker processes: schedules the dunning catch-up every DUNNING_CATCH_UP_INTERVAL_MS (removing a
 * schedule left by another interval), kept by `QueueSchedules` through Redis restarts, and runs it
 * once at start: steps that fell due while no worker ran are queued at once.
 */
@Injectable()
export class DunningBootstrap implements OnApplicationBootstrap {
  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobQueue,
    private readonly schedules: QueueSchedules,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.runsWorkers) return;
    await this.schedules.keepOnly(CATCH_UP, this.config.dunning.catchUpIntervalMs);
    await this.jobs.enqueue(CATCH_UP, {});
  }
}
