import { Processor } from '@nestjs/bull';
import { Logger } from '@nestjs/common';
import type { Job } from 'bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { type JobEnvelope, QUEUES } from '../../../platform/queue/queue.registry.js';
import { InboxQueue } from '../processing/inbox-queue.js';
import { ProcessStripeEvent, type ProcessResult } from '../processing/process-stripe-event.js';

/** What a batch job leaves in Bull: how many of its events ended each way. */
export type BatchSummary = Partial<Record<ProcessResult['status'], number>>;

/**
 * Thin: the events of one intake group commit per `webhooks.process-events` job, one event per
 * `webhooks.process-event` job (sweeper, replay, retries); what is applied, retried or dead-lettered is
 * decided by ProcessStripeEvent. An event that failed in its batch is retried alone, with backoff; one
 * deferred behind an older event of its object is queued again alone, shortly.
 */
@Processor(QUEUES.webhooks)
export class WebhookEventsProcessor {
  private readonly logger = new Logger('WebhookProcessing');

  constructor(
    private readonly processEvent: ProcessStripeEvent,
    private readonly queue: InboxQueue,
  ) {}

  @HandlesJob('webhooks.process-event')
  process(job: Job<JobEnvelope<'webhooks.process-event'>>): Promise<ProcessResult> {
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return this.processEvent.execute(job.data.payload.eventId, { lastAttempt });
  }

  @HandlesJob('webhooks.process-events')
  async processBatch(job: Job<JobEnvelope<'webhooks.process-events'>>): Promise<BatchSummary> {
    const { eventIds, correlationIds } = job.data.payload;
    const correlation = new Map(eventIds.map((id, i) => [id, correlationIds[i] ?? `event:${id}`]));
    // A failure of one event is its own (retried alone); only a batch that could not run at all is
    // retried by Bull, so the whole batch's last attempt is no event's last.
    const results = await this.processEvent.executeBatch(eventIds, {
      lastAttempt: false,
      correlationIds: correlation,
    });
    const summary: BatchSummary = {};
    for (const [eventId, result] of results) {
      summary[result.status] = (summary[result.status] ?? 0) + 1;
      if (result.status !== 'failed' && result.status !== 'deferred') continue;
      try {
        if (result.status === 'failed') await this.queue.scheduleRetry(eventId, result.attempts);
        else await this.queue.scheduleDeferred(eventId);
      } catch (error) {
        // The row stays `failed`: the sweeper queues it again after WEBHOOK_SWEEP_AFTER_MS.
        this.logger.warn({
          msg: 'could not schedule the retry of a webhook event; the sweeper will',
          eventId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return summary;
  }
}
