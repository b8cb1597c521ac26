import { Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { type JobEnvelope, QUEUES } from '../../../platform/queue/queue.registry.js';
import {
  RecordPaymentBalanceHandler,
  type RecordBalanceOutcome,
} from '../commands/record-balance/record-balance.handler.js';

/** Thin: reads and records a captured payment's fee and net (RecordPaymentBalanceHandler). */
@Processor(QUEUES.maintenance)
export class RecordPaymentBalanceProcessor {
  constructor(private readonly handler: RecordPaymentBalanceHandler) {}

  @HandlesJob('payments.record-balance')
  process(job: Job<JobEnvelope<'payments.record-balance'>>): Promise<RecordBalanceOutcome> {
    return this.handler.execute(job.data.payload.paymentId);
  }
}
