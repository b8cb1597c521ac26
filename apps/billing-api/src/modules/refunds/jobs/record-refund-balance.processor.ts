import { Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { type JobEnvelope, QUEUES } from '../../../platform/queue/queue.registry.js';
import {
  RecordRefundBalanceHandler,
  type RecordRefundBalanceOutcome,
} from '../commands/record-refund-balance/record-refund-balance.handler.js';

/** Thin: reads and records a succeeded refund's fee and net (RecordRefundBalanceHandler). */
@Processor(QUEUES.maintenance)
export class RecordRefundBalanceProcessor {
  constructor(private readonly handler: RecordRefundBalanceHandler) {}

  @HandlesJob('refunds.record-balance')
  process(job: Job<JobEnvelope<'refunds.record-balance'>>): Promise<RecordRefundBalanceOutcome> {
    const { refundId, balanceTransactionId } = job.data.payload;
    return this.handler.execute(refundId, balanceTransactionId);
  }
}
