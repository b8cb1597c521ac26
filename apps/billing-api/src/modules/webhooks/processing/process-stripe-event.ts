import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { AppConfig } from '../../../platform/config/app-config.js';
import { RequestContext } from '../../../platform/context/request-context.js';
import { StripeCallError } from '../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';
import {
  PermanentEventError,
  type StripeEventContext,
  type StripeEventOutcome,
} from '../contracts/stripe-event-handler.js';
import type { WebhookEventStatus } from '../persistence/webhook-event.orm-entity.js';
import { ASYNC_COMMIT_CTE, rows } from '../../../platform/database/row-sql.js';
import { WebhookMetrics } from '../webhook.metrics.js';
import { StripeEventDispatcher } from './stripe-event-dispatcher.js';

export type ProcessResult =
  | { status: 'processed' | 'ignored'; outcome: StripeEventOutcome }
  | { status: 'dead'; reason: string }
  | { status: 'already_done' }
  | { status: 'missing' };

/** Which SDK resource re-reads an object, by id prefix (ctx.refetch). */
const RETRIEVERS: [prefix: string, retrieve: (stripe: Stripe, id: string) => Promise<unknown>][] = [
  ['cus_', (s, id) => s.customers.retrieve(id)],
  ['sub_', (s, id) => s.subscriptions.retrieve(id)],
  ['in_', (s, id) => s.invoices.retrieve(id)],
  ['pi_', (s, id) => s.paymentIntents.retrieve(id)],
  ['ch_', (s, id) => s.charges.retrieve(id)],
  ['re_', (s, id) => s.refunds.retrieve(id)],
  ['pm_', (s, id) => s.paymentMethods.retrieve(id)],
  ['cs_', (s, id) => s.checkout.sessions.retrieve(id)],
  ['seti_', (s, id) => s.setupIntents.retrieve(id)],
  ['price_', (s, id) => s.prices.retrieve(id)],
  ['prod_', (s, id) => s.products.retrieve(id)],
];

const MAX_ERROR_LENGTH = 2000;

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, MAX_ERROR_LENGTH);
}

/** The run's claim was taken over by another run before its mark: roll back, leave the event to it. */
class ClaimSuperseded extends Error {
  constructor() {
    super('the webhook event was claimed again by another run');
    this.name = 'ClaimSuperseded';
  }
}

interface InboxRow {
  id: string;
  type: string;
  status: WebhookEventStatus;
  payload: Stripe.Event;
  event_created: Date;
  livemode: boolean;
}

/**
 * Applies one stored event exactly once (R-WH-3, R-CORE-8):
 * 1. claims the row (`processing`, attempts + 1) in one statement that also returns the event, so that
 *    a row a crashed worker left behind is visible to the sweeper;
 * 2. in ONE transaction: calls the type's handler with that transaction and marks the row processed (or
 *    ignored) with its outcome, on the condition that the row is still this run's claim (`processing`
 *    with this run's attempt number). When another run claimed it in the meantime (a duplicate job, the
 *    sweeper's hand-over of a row it thought abandoned), the mark finds no row and the transaction is
 *    rolled back: the handler's writes and the mark commit together, for one run only. The mark waits
 *    for a concurrent run's uncommitted mark, so two runs never both commit. When the type has an
 *    unchanged-check that finds, from committed state, that the handler would write nothing (e.g. the
 *    event confirming what the API already wrote from Stripe's answer), the mark alone is the step;
 * 3. on failure: a {@link PermanentEventError}, the last Bull attempt or the attempt budget spent
 *    dead-letters the event with its reason and an alert log line; anything else records the error and
 *    is rethrown for Bull's exponential backoff.
 */
@Injectable()
export class ProcessStripeEvent {
  private readonly logger = new Logger('WebhookProcessing');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly dispatcher: StripeEventDispatcher,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly metrics: WebhookMetrics,
  ) {}

  async execute(eventId: string, options: { lastAttempt: boolean }): Promise<ProcessResult> {
    const claimedAt = this.clock.now();
    // The claim is bookkeeping (visibility for the sweeper, the attempt count): one statement, committed
    // without waiting for the WAL flush (`set_config(..., true)` is local to the statement's implicit
    // transaction, commit included). Losing it in a database crash only reverts the row to its previous
    // status; the processing transaction below commits durably, and flushing it flushes the claim too.
    const [claimed] = await rows<InboxRow & { attempts: number }>(
      this.db,
      `WITH ${ASYNC_COMMIT_CTE}
       UPDATE webhook_events
          SET status = 'processing', attempts = attempts + 1, processing_started_at = $2, updated_at = $2
         FROM async_commit
        WHERE id = $1 AND status IN ('pending', 'failed', 'processing')
        RETURNING id, type, status, payload, event_created, livemode, attempts`,
      [eventId, claimedAt],
    );
    if (!claimed) {
      const exists = await rows(this.db, `SELECT 1 FROM webhook_events WHERE id = $1`, [eventId]);
      return exists.length > 0 ? { status: 'already_done' } : { status: 'missing' };
    }
    const { attempts, type } = claimed;

    const handler = this.dispatcher.handlerFor(type);
    const event = {
      id: claimed.id,
      type,
      created: Math.floor(claimed.event_created.getTime() / 1000),
      livemode: claimed.livemode,
    };
    const context = {
      correlationId: RequestContext.current()?.correlationId ?? `event:${claimed.id}`,
      actor: { type: 'stripe_event' as const, id: claimed.id },
    };
    try {
      // An event whose handler would write nothing (its unchanged-check says so from committed state)
      // is marked in one statement, without the handler's transaction and its lock.
      const check = handler?.unchanged;
      const unchanged = check
        ? await RequestContext.run(context, () => check(claimed.payload, { manager: this.db.manager, event }))
        : null;
      const result = unchanged
        ? await this.mark(this.db.manager, eventId, unchanged, attempts, { asyncCommit: true })
        : await this.db.transaction(async (manager) => {
            let outcome: StripeEventOutcome = 'ignored';
            if (handler) {
              const ctx: StripeEventContext = {
                manager,
                event,
                refetch: (objectId) => this.refetch(objectId),
              };
              outcome =
                (await RequestContext.run(context, () => handler.fn(claimed.payload, ctx))) ?? 'applied';
            }
            return this.mark(manager, eventId, outcome, attempts);
          });
      this.metrics.lag.observe(
        { outcome: result.outcome },
        Math.max(0, (result.processedAt.getTime() - claimed.event_created.getTime()) / 1000),
      );
      return { status: result.status, outcome: result.outcome };
    } catch (error) {
      // Another run holds the event now (its own mark decides); this run's writes were rolled back.
      if (error instanceof ClaimSuperseded) return { status: 'already_done' };
      const permanent = error instanceof PermanentEventError;
      const dead = permanent || options.lastAttempt || attempts >= this.config.webhooks.maxAttempts;
      const reason = describeError(error);
      try {
        await this.db.query(
          `UPDATE webhook_events SET status = $2, last_error = $3, updated_at = $4
            WHERE id = $1 AND status = 'processing' AND attempts = $5`,
          [eventId, dead ? 'dead' : 'failed', reason, this.clock.now(), attempts],
        );
      } catch (recordError) {
        // The row stays `processing`; the sweeper brings it back. Let Bull retry the original failure.
        this.logger.warn({
          msg: 'could not record a webhook failure',
          eventId,
          error: describeError(recordError),
        });
        throw error;
      }
      if (!dead) {
        this.logger.warn({ msg: 'webhook event failed; will retry', eventId, type, attempts, reason });
        throw error;
      }
      this.metrics.deadLettered.inc({ type });
      this.logger.error({
        msg: 'webhook event dead-lettered',
        alert: 'webhook_dead_letter',
        eventId,
        type,
        attempts,
        permanent,
        reason,
      });
      return { status: 'dead', reason };
    }
  }

  /**
   * Marks the event processed (or ignored) with its outcome, on the condition that the row is still this
   * run's claim (`processing` with this run's attempt number); throws {@link ClaimSuperseded} otherwise.
   * last_error is kept: the error of an earlier failed attempt stays visible for diagnosis.
   * `asyncCommit`: the mark of an event that changed nothing, run on its own, commits without waiting
   * for the WAL flush. Lost in a database crash, the row is `processing` again; the sweeper hands it on
   * and the next run finds it unchanged again.
   */
  private async mark(
    manager: EntityManager,
    eventId: string,
    outcome: StripeEventOutcome,
    attempts: number,
    options: { asyncCommit?: boolean } = {},
  ): Promise<{ status: 'processed' | 'ignored'; outcome: StripeEventOutcome; processedAt: Date }> {
    const status = outcome === 'ignored' ? 'ignored' : 'processed';
    const processedAt = this.clock.now();
    const [asyncCommit, fromAsyncCommit] = options.asyncCommit
      ? [`WITH ${ASYNC_COMMIT_CTE} `, 'FROM async_commit ']
      : ['', ''];
    const marked = await rows(
      manager,
      `${asyncCommit}UPDATE webhook_events
          SET status = $2, outcome = $3, processed_at = $4, updated_at = $4
         ${fromAsyncCommit}WHERE id = $1 AND status = 'processing' AND attempts = $5
        RETURNING id`,
      [eventId, status, outcome, processedAt, attempts],
    );
    if (marked.length === 0) throw new ClaimSuperseded();
    return { status, outcome, processedAt };
  }

  /** Re-reads a Stripe object through the gateway; null when Stripe no longer has it. */
  async refetch(objectId: string): Promise<Record<string, unknown> | null> {
    const entry = RETRIEVERS.find(([prefix]) => objectId.startsWith(prefix));
    if (!entry) throw new PermanentEventError(`cannot re-read Stripe object ${objectId}: unknown id prefix`);
    const [prefix, retrieve] = entry;
    try {
      const object = await this.gateway.call(`${prefix.slice(0, -1)}.retrieve`, (stripe) =>
        retrieve(stripe, objectId),
      );
      return object as Record<string, unknown>;
    } catch (error) {
      if (error instanceof StripeCallError && error.kind === 'not_found') return null;
      throw error;
    }
  }
}
