import { Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { type JobEnvelope, QUEUES } from '../../../platform/queue/queue.registry.js';
import { ProcessStripeEvent, type ProcessResult } from '../processing/process-stripe-event.js';

/** Thin: one stored event per job; retries and dead-lettering are decided by ProcessStripeEvent. */
@Processor(QUEUES.webhooks)
export class WebhookEventsProcessor {
  constructor(private readonly processEvent: ProcessStripeEvent) {}

  @HandlesJob('webhooks.process-event')
  process(job: Job<JobEnvelope<'webhooks.process-event'>>): Promise<ProcessResult> {
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return this.processEvent.execute(job.data.payload.eventId, { lastAttempt });
  }
}
