import { Processor } from '@nestjs/bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { QUEUES } from '../../../platform/queue/queue.registry.js';
import { DunningScheduler } from './dunning-scheduler.js';

/** Every DUNNING_CATCH_UP_INTERVAL_MS (DunningBootstrap): queues due steps whose job was lost. */
@Processor(QUEUES.maintenance)
export class DunningCatchUpProcessor {
  constructor(private readonly scheduler: DunningScheduler) {}

  @HandlesJob('maintenance.dunning-catch-up')
  async catchUp(): Promise<{ queued: number }> {
    return { queued: await this.scheduler.enqueueDue() };
  }
}
