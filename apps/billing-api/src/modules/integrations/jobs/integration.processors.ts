import { Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { type JobEnvelope, QUEUES } from '../../../platform/queue/queue.registry.js';
import { DeliverIntegrationEvent, type DeliveryResult } from '../commands/deliver-integration-event.js';
import { SweepIntegrationDeliveries } from '../commands/sweep-integration-deliveries.js';

/** One delivery (event x endpoint) per job, job id = delivery id; Bull's exponential backoff retries. */
@Processor(QUEUES.integrations)
export class DeliverIntegrationEventProcessor {
  constructor(private readonly deliver: DeliverIntegrationEvent) {}

  @HandlesJob('integrations.deliver')
  process(job: Job<JobEnvelope<'integrations.deliver'>>): Promise<DeliveryResult> {
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return this.deliver.execute(job.data.payload.deliveryId, { lastAttempt });
  }
}

@Processor(QUEUES.maintenance)
export class SweepIntegrationDeliveriesProcessor {
  constructor(private readonly sweeper: SweepIntegrationDeliveries) {}

  @HandlesJob('maintenance.sweep-integration-deliveries')
  sweep(): Promise<{ requeued: number }> {
    return this.sweeper.sweep();
  }
}
