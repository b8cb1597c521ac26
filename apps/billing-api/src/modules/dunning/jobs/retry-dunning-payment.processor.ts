import { Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { QUEUES, type JobEnvelope } from '../../../platform/queue/queue.registry.js';
import { RetryDunningPaymentHandler } from '../commands/retry-dunning-payment/retry-dunning-payment.handler.js';

/** A card changed while an invoice is unpaid: retries it now (RetryDunningPaymentHandler). */
@Processor(QUEUES.dunning)
export class RetryDunningPaymentProcessor {
  constructor(private readonly retry: RetryDunningPaymentHandler) {}

  @HandlesJob('dunning.retry-payment')
  run(job: Job<JobEnvelope<'dunning.retry-payment'>>): Promise<string> {
    return this.retry.execute(job.data.payload);
  }
}
