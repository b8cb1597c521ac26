import { Processor } from '@nestjs/bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { QUEUES } from '../../../platform/queue/queue.registry.js';
import { InboxSweeper } from '../processing/inbox-sweeper.js';

/** Every WEBHOOK_SWEEP_INTERVAL_MS (scheduled by WebhooksBootstrap): re-enqueues stuck inbox events. */
@Processor(QUEUES.maintenance)
export class SweepWebhookInboxProcessor {
  constructor(private readonly sweeper: InboxSweeper) {}

  @HandlesJob('maintenance.sweep-webhook-inbox')
  sweep(): Promise<{ requeued: number; recovered: number }> {
    return this.sweeper.sweep();
  }
}
