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
  ReadAheadOutdated,
  type StripeEventBatchLockFn,
  type StripeEventReadAheadFn,
  type StripeEventContext,
  type StripeEventOutcome,
} from '../contracts/stripe-event-handler.js';
import { WEBHOOK_EVENT_STATUSES, type WebhookEventStatus } from '../persistence/webhook-event.orm-entity.js';
import { ASYNC_COMMIT_CTE, rows } from '../../../platform/database/row-sql.js';
import { WebhookMetrics } from '../webhook.metrics.js';
import { StripeEventDispatcher } from './stripe-event-dispatcher.js';

export type ProcessResult =
  | { status: 'processed' | 'ignored'; outcome: StripeEventOutcome }
  | { status: 'dead'; reason: string }
  /** Only from a batch: the failure is recorded (`failed`) and the event is to be retried alone. */
  | { status: 'failed'; reason: string; attempts: number }
  /** Not claimed: an older event of the same Stripe customer waits or runs elsewhere; queue it again. */
  | { status: 'deferred' }
  | { status: 'already_done' }
  | { status: 'missing' };

/** The statuses a run may claim (a `processing` row: a duplicate job, or one left by a dead worker). */
const CLAIMABLE = new Set<WebhookEventStatus>(['pending', 'failed', 'processing']);

/**
 * A SQL list of every inbox status but `kept`: the claim and the mark name the rows they want by the
 * statuses those rows are not (why: at each statement). Derived from the one status list, so that a
 * status added later is excluded too instead of silently matching.
 */
function statusesOtherThan(kept: ReadonlySet<WebhookEventStatus>): string {
  return `(${WEBHOOK_EVENT_STATUSES.filter((status) => !kept.has(status))
    .map((status) => `'${status}'`)
    .join(', ')})`;
}
const NOT_CLAIMABLE = statusesOtherThan(CLAIMABLE);
const NOT_PROCESSING = statusesOtherThan(new Set(['processing']));

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

/** Runs' claims were taken over by other runs before their mark: roll back, leave those events to them. */
class ClaimSuperseded extends Error {
  constructor(readonly eventIds: string[]) {
    super('webhook events were claimed again by another run');
    this.name = 'ClaimSuperseded';
  }
}

/** One event of a batch failed: the batch's transaction is rolled back and runs again without it. */
class EventFailed extends Error {
  constructor(
    readonly row: ClaimedRow,
    readonly failure: unknown,
  ) {
    super(describeError(failure));
    this.name = 'EventFailed';
  }
}

interface ClaimedRow {
  id: string;
  type: string;
  status: WebhookEventStatus;
  payload: Stripe.Event;
  event_created: Date;
  livemode: boolean;
  attempts: number;
}

/** How many read-aheads an object gets in one run (the first, and again after an outdated one). */
const READ_AHEAD_ATTEMPTS = 3;

/** The Stripe object an event is about: the key of its read-ahead. */
function aggregateOf(row: ClaimedRow): string {
  const object = (row.payload as { data?: { object?: { id?: unknown } } }).data?.object;
  return typeof object?.id === 'string' ? object.id : '';
}

/** PostgreSQL's deadlock, serialization failure and lock-not-available: the transaction's fault, not the event's. */
const LOCK_CONFLICTS = new Set(['40P01', '40001', '55P03']);

function isLockConflict(error: unknown): boolean {
  const code = (error as { driverError?: { code?: unknown }; code?: unknown } | null)?.driverError?.code;
  return typeof code === 'string' && LOCK_CONFLICTS.has(code);
}

/** The facts of a stored event its handler is given (StripeEventContext.event). */
function eventFacts(row: ClaimedRow): StripeEventContext['event'] {
  return {
    id: row.id,
    type: row.type,
    created: Math.floor(row.event_created.getTime() / 1000),
    livemode: row.livemode,
  };
}

/**
 * The Stripe customer an event's object belongs to (the object itself for a customer, or for an object that
 * names no customer): the unit whose events are applied in order. Handlers of one customer's objects act
 * on each other (an invoice's failed payment moves its subscription through dunning) and lock the
 * customer's account rows, so order per object is not enough, and locks are taken customer by customer.
 * {@link OPEN_CUSTOMER_KEY} is the same key in SQL (and in the index of migration 1764550000000).
 */
function customerOf(row: ClaimedRow): string {
  const object = (row.payload as { data?: { object?: { id?: unknown; customer?: unknown } } }).data?.object;
  if (typeof object?.customer === 'string') return object.customer;
  return typeof object?.id === 'string' ? object.id : '';
}

/** {@link customerOf} of the inbox row `alias`, as indexed by `webhook_events_open_customer_idx`. */
const OPEN_CUSTOMER_KEY = (alias: string) =>
  `COALESCE(${alias}.payload->'data'->'object'->>'customer', ${alias}.payload->'data'->'object'->>'id')`;

/**
 * A batch in the order it is applied: customer by customer (so that two batches take the accounts' locks
 * in the same order and never wait for each other in a cycle: ordered by object alone, a batch holding
 * account A's row and inserting a payment method of B's met one doing the reverse), then by `created`
 * (older first), then in the order the events arrived (the job's: a test clock gives one advance's events
 * the same second), then by id.
 */
function inApplyOrder(arrival: ReadonlyMap<string, number>): (a: ClaimedRow, b: ClaimedRow) => number {
  return (a, b) => {
    const ca = customerOf(a);
    const cb = customerOf(b);
    if (ca !== cb) return ca < cb ? -1 : 1;
    const t = a.event_created.getTime() - b.event_created.getTime();
    if (t !== 0) return t;
    const p = (arrival.get(a.id) ?? 0) - (arrival.get(b.id) ?? 0);
    if (p !== 0) return p;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

export interface BatchOptions {
  /** Bull's last attempt of the job: a failure dead-letters the event instead of recording it for retry. */
  lastAttempt: boolean;
  /** The correlation id of each event's delivery (the intake request), by event id. */
  correlationIds?: ReadonlyMap<string, string>;
}

/**
 * Applies stored events exactly once (R-WH-3, R-CORE-8), several in one transaction (issue 22):
 * 1. claims the rows (`processing`, attempts + 1) in one statement that also returns the events, so that
 *    a row a crashed worker left behind is visible to the sweeper; an event with an older event of the
 *    same Stripe customer still pending or running elsewhere is not claimed but `deferred` (queued again),
 *    so that one customer's events are applied in order across batches as within one;
 * 2. the first event of each customer whose type has an unchanged-check is checked from committed state,
 *    without a transaction or a lock (`@ChecksStripeEventsUnchanged`); an event found unchanged is only
 *    marked, and a batch made only of such events is marked in one statement without a transaction;
 * 3. in ONE transaction, in apply order (customer by customer, then `created`, then arrival): for each other event, its type's
 *    unchanged-check (reading the transaction, so that it sees what the batch-mates before it wrote) or
 *    else its handler, with that transaction; then marks every row processed (or ignored) with its
 *    outcome in one statement, on the condition that each row is still this run's claim (`processing`
 *    with this run's attempt number). When another run claimed one in the meantime (a duplicate job, the sweeper's
 *    hand-over of a row it thought abandoned), the transaction is rolled back and runs again without
 *    that event: the handlers' writes and the marks commit together, each event for one run only. The
 *    mark waits for a concurrent run's uncommitted mark, so two runs never both commit. A batch in which
 *    no handler wrote (every event unchanged or unhandled) commits without waiting for the WAL flush;
 * 4. when an event fails, the transaction is rolled back and runs again without it, so that its
 *    batch-mates are applied (when it failed on a lock conflict, a deadlock with another batch, the
 *    batch's events are applied one per transaction instead, as lone events are); its failure is recorded: a {@link PermanentEventError}, Bull's last attempt
 *    or the attempt budget spent dead-letters it with its reason and an alert log line; anything else
 *    leaves it `failed`, to be retried (alone) with backoff.
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

  /**
   * One event (`webhooks.process-event`: the sweeper's, a replay, the retry of a failed event, a deferred
   * one run again): its failure, unless dead-lettered, is thrown for Bull's exponential backoff. It is
   * never deferred (a deferral is one short wait, not a backoff that grows): should an older event of its
   * object still be unapplied, the ordering rule skips that one as stale when it comes.
   */
  async execute(eventId: string, options: { lastAttempt: boolean }): Promise<ProcessResult> {
    const outcome = await this.applyBatch([eventId], options, { rethrow: true, defer: false });
    return outcome.get(eventId) ?? { status: 'missing' };
  }

  /**
   * The events of one intake group commit (`webhooks.process-events`), by event id. An event that failed
   * comes back `failed` (recorded, for the caller to retry alone); the batch throws only when it could not
   * run at all (the claim or the commit failed), for Bull to retry it.
   */
  async executeBatch(eventIds: string[], options: BatchOptions): Promise<Map<string, ProcessResult>> {
    return this.applyBatch(eventIds, options, { rethrow: false, defer: true });
  }

  private async applyBatch(
    eventIds: string[],
    options: BatchOptions,
    mode: { rethrow: boolean; defer: boolean },
  ): Promise<Map<string, ProcessResult>> {
    const results = new Map<string, ProcessResult>();
    const claimedAt = this.clock.now();
    // The claim is bookkeeping (visibility for the sweeper, the attempt count): one statement, committed
    // without waiting for the WAL flush (`set_config(..., true)` is local to the statement's implicit
    // transaction, commit included). Losing it in a database crash only reverts the rows to their previous
    // status; the processing transaction below commits durably, and flushing it flushes the claim too.
    // In a batch, an event is not claimed while an older event of the same Stripe customer waits or runs
    // elsewhere (another batch, a retry): it is deferred (left `pending`/`failed`, queued again alone
    // shortly), so that the events of one customer are applied in order across batches too.
    // The claimable statuses are named by the ones that are not (the same set under the table's CHECK):
    // written `IN ('pending', 'failed', 'processing')`, the condition matched the predicate of the
    // sweeper's partial index of the time (over those three statuses), and the prepared statement's
    // generic plan ANDed that index with the primary key, reading every entry the index still held for
    // rows finished since the last vacuum (36,000 after one bench:payments scenario: 2.7 ms per claim
    // instead of 0.2). The order check's `IN ('pending', 'processing')` is the customer index's predicate,
    // and implies no other index's: the sweeper's two indexes cover `pending`/`failed` and `processing`
    // apart (migration WebhookSweepIndexes), so the check reads only the customer's entries
    // (webhooks-plans.int-spec.ts).
    const claimed = await rows<ClaimedRow>(
      this.db,
      `WITH ${ASYNC_COMMIT_CTE}
       UPDATE webhook_events w
          SET status = 'processing', attempts = w.attempts + 1, processing_started_at = $2, updated_at = $2
         FROM async_commit
        WHERE w.id = ANY($1::text[]) AND w.status NOT IN ${NOT_CLAIMABLE}
          AND (NOT $3::boolean OR NOT EXISTS (
                SELECT 1 FROM webhook_events o
                 WHERE ${OPEN_CUSTOMER_KEY('o')} = ${OPEN_CUSTOMER_KEY('w')}
                   AND o.status IN ('pending', 'processing')
                   AND (o.event_created, o.id) < (w.event_created, w.id)
                   AND o.id <> ALL ($1::text[])))
        RETURNING w.id, w.type, w.status, w.payload, w.event_created, w.livemode, w.attempts`,
      [eventIds, claimedAt, mode.defer],
    );
    if (claimed.length < eventIds.length) {
      const claimedIds = new Set(claimed.map((row) => row.id));
      const unclaimed = eventIds.filter((id) => !claimedIds.has(id));
      const found = new Map(
        (
          await rows<{ id: string; status: WebhookEventStatus }>(
            this.db,
            `SELECT id, status FROM webhook_events WHERE id = ANY($1::text[])`,
            [unclaimed],
          )
        ).map((row) => [row.id, row.status]),
      );
      for (const id of unclaimed) {
        const status = found.get(id);
        results.set(
          id,
          status === undefined
            ? { status: 'missing' }
            : CLAIMABLE.has(status)
              ? { status: 'deferred' }
              : { status: 'already_done' },
        );
      }
    }
    const ordered = claimed.sort(inApplyOrder(new Map(eventIds.map((id, index) => [id, index]))));
    const known = await this.precheck(ordered, options, mode, results);
    const aheads = await this.readAhead(
      ordered.filter((row) => !results.has(row.id) && !known.has(row.id)),
      options,
    );
    const rest = await this.applyGroup(
      ordered.filter((row) => !results.has(row.id)),
      known,
      options,
      mode,
      results,
      aheads,
    );
    // The batch's locks met another transaction's in a cycle: its events are applied one per
    // transaction, as lone events are, holding one event's locks at a time.
    for (const row of rest) await this.applyGroup([row], known, options, mode, results, aheads);
    return results;
  }

  /**
   * Applies a group of events in one transaction (`applyTogether`), again without each event that failed
   * (its failure recorded) or that another run claimed, until every event has its result in `results`.
   * Returns the events left when an event of a group of several met a lock conflict (a deadlock with
   * another batch, say): not a failure of theirs, to be applied in smaller transactions.
   */
  private async applyGroup(
    group: ClaimedRow[],
    known: ReadonlyMap<string, StripeEventOutcome>,
    options: BatchOptions,
    mode: { rethrow: boolean; defer: boolean },
    results: Map<string, ProcessResult>,
    aheads: Map<string, unknown>,
  ): Promise<ClaimedRow[]> {
    let pending = group;
    const aheadAttempts = new Map<string, number>();
    // Objects whose read-aheads are spent in this run: their handlers read under the lock.
    const spent = new Set<string>();
    while (pending.length > 0) {
      try {
        const { processedAt, outcomes } = await this.applyTogether(pending, known, options, aheads, spent);
        for (const [row, outcome] of outcomes) {
          const status = outcome === 'ignored' ? 'ignored' : 'processed';
          results.set(row.id, { status, outcome });
          this.metrics.lag.observe(
            { outcome },
            Math.max(0, (processedAt.getTime() - row.event_created.getTime()) / 1000),
          );
        }
        return [];
      } catch (error) {
        // Other runs hold these events now (their own marks decide); this run's writes were rolled back.
        if (error instanceof ClaimSuperseded) {
          for (const id of error.eventIds) results.set(id, { status: 'already_done' });
          pending = pending.filter((row) => !error.eventIds.includes(row.id));
          continue;
        }
        // A read-ahead outdated by a write since: read ahead again, outside any transaction, and run
        // the group again; after READ_AHEAD_ATTEMPTS the handler reads under its lock instead.
        if (error instanceof EventFailed && error.failure instanceof ReadAheadOutdated) {
          const object = aggregateOf(error.row);
          const attempts = (aheadAttempts.get(object) ?? 1) + 1;
          aheadAttempts.set(object, attempts);
          const again =
            attempts <= READ_AHEAD_ATTEMPTS
              ? await this.readAhead(
                  pending.filter((row) => aggregateOf(row) === object),
                  options,
                )
              : null;
          if (again?.has(object)) aheads.set(object, again.get(object));
          else aheads.delete(object);
          if (attempts >= READ_AHEAD_ATTEMPTS) spent.add(object);
          continue;
        }
        if (error instanceof EventFailed && pending.length > 1 && isLockConflict(error.failure))
          return pending;
        // One event failed (or the only one could not be marked): record it, run the others again.
        const failedRow = error instanceof EventFailed ? error.row : pending.length === 1 ? pending[0] : null;
        if (!failedRow) throw error;
        const failure = error instanceof EventFailed ? error.failure : error;
        const result = await this.recordFailure(failedRow, failure, options);
        if (result.status === 'failed' && mode.rethrow) throw failure;
        results.set(failedRow.id, result);
        pending = pending.filter((row) => row !== failedRow);
      }
    }
    return [];
  }

  /**
   * The unchanged-checks that may read committed state, outside any transaction: the first event of each
   * customer in the batch (a later one must see what its batch-mates before it wrote, whatever their
   * object: an invoice's event may move its subscription, so it is checked inside the transaction). Returns the outcomes of the events found unchanged; a check that throws is
   * that event's failure (recorded in `results`).
   */
  private async precheck(
    batch: ClaimedRow[],
    options: BatchOptions,
    mode: { rethrow: boolean; defer: boolean },
    results: Map<string, ProcessResult>,
  ): Promise<Map<string, StripeEventOutcome>> {
    const known = new Map<string, StripeEventOutcome>();
    const seen = new Set<string>();
    for (const row of batch) {
      const customer = customerOf(row);
      if (seen.has(customer)) continue;
      seen.add(customer);
      const check = this.dispatcher.handlerFor(row.type)?.unchanged;
      if (!check) continue;
      try {
        const outcome = await this.inContext(row, batch.length === 1, options, () =>
          check(row.payload, { manager: this.db.manager, event: eventFacts(row) }),
        );
        if (outcome) known.set(row.id, outcome);
      } catch (error) {
        const result = await this.recordFailure(row, error, options);
        if (result.status === 'failed' && mode.rethrow) throw error;
        results.set(row.id, result);
      }
    }
    return known;
  }

  /**
   * The read-aheads (`@ReadsStripeEventsAhead`) of the batch's objects, before the batch's transaction:
   * the Stripe reads a handler would otherwise make while the batch holds its row locks (every object's
   * before it, too). Each read-ahead is called once with all its events of the batch, in apply order, and
   * answers by object (one Stripe read, newer than every event of the batch, is good for all of that
   * object's events). One that fails is left out: the handlers read under their locks, as without one.
   */
  private async readAhead(batch: ClaimedRow[], options: BatchOptions): Promise<Map<string, unknown>> {
    const byRead = new Map<StripeEventReadAheadFn, ClaimedRow[]>();
    for (const row of batch) {
      const read = this.dispatcher.handlerFor(row.type)?.readAhead;
      if (read) byRead.set(read, [...(byRead.get(read) ?? []), row]);
    }
    const aheads = new Map<string, unknown>();
    for (const [read, rows] of byRead) {
      try {
        const found = await this.inContext(rows[0]!, batch.length === 1, options, () =>
          read(
            rows.map((row) => row.payload),
            { manager: this.db.manager, refetch: (objectId) => this.refetch(objectId) },
          ),
        );
        for (const [object, ahead] of found) aheads.set(object, ahead);
      } catch (error) {
        this.logger.warn({
          msg: 'read-ahead failed; read under the lock',
          eventIds: rows.map((row) => row.id),
          error: describeError(error),
        });
      }
    }
    return aheads;
  }

  /**
   * Applies the events in one transaction and marks them; throws EventFailed or ClaimSuperseded. Events
   * in `known` (found unchanged outside) are only marked; when every event is, the mark is one statement
   * without a transaction.
   */
  private async applyTogether(
    batch: ClaimedRow[],
    known: ReadonlyMap<string, StripeEventOutcome>,
    options: BatchOptions,
    aheads: ReadonlyMap<string, unknown>,
    spent: ReadonlySet<string>,
  ): Promise<{ processedAt: Date; outcomes: [ClaimedRow, StripeEventOutcome][] }> {
    const outcomeOf = (row: ClaimedRow) => known.get(row.id);
    if (batch.every((row) => outcomeOf(row) !== undefined)) {
      const outcomes = batch.map((row): [ClaimedRow, StripeEventOutcome] => [row, outcomeOf(row)!]);
      return { processedAt: await this.mark(this.db.manager, outcomes, { asyncCommit: true }), outcomes };
    }
    return this.db.transaction(async (manager) => {
      const outcomes: [ClaimedRow, StripeEventOutcome][] = [];
      let wrote = false;
      await this.lockBatch(
        manager,
        batch.filter((row) => outcomeOf(row) === undefined),
      );
      for (const row of batch) {
        const outcome = outcomeOf(row);
        if (outcome !== undefined) {
          outcomes.push([row, outcome]);
          continue;
        }
        try {
          const applied = await this.applyOne(manager, row, batch.length === 1, options, {
            ahead: aheads.get(aggregateOf(row)),
            spent: spent.has(aggregateOf(row)),
          });
          wrote ||= applied.ran;
          outcomes.push([row, applied.outcome]);
        } catch (error) {
          throw new EventFailed(row, error);
        }
      }
      return { processedAt: await this.mark(manager, outcomes, { asyncCommit: !wrote }), outcomes };
    });
  }

  /**
   * The batch locks of the handlers (`@LocksStripeEventBatches`), each called once with its events that
   * are the first of their customer to run (in apply order): nothing earlier in this transaction wrote
   * their rows. Only for a batch of several events (alone, the handler's own lock is one statement too).
   * A lock conflict is the batch's (`EventFailed` of its first event: the batch then runs one event per
   * transaction); any other failure fails the run.
   */
  private async lockBatch(manager: EntityManager, running: ClaimedRow[]): Promise<void> {
    if (running.length < 2) return;
    const seen = new Set<string>();
    const byLock = new Map<StripeEventBatchLockFn, Stripe.Event[]>();
    for (const row of running) {
      const customer = customerOf(row);
      if (seen.has(customer)) continue;
      seen.add(customer);
      const lock = this.dispatcher.handlerFor(row.type)?.batchLock;
      if (lock) byLock.set(lock, [...(byLock.get(lock) ?? []), row.payload]);
    }
    for (const [lock, payloads] of byLock) {
      try {
        await lock(payloads, manager);
      } catch (error) {
        if (isLockConflict(error)) throw new EventFailed(running[0]!, error);
        throw error;
      }
    }
  }

  /**
   * Marks the events processed (or ignored) with their outcomes in one statement, on the condition that
   * each row is still this run's claim (`processing` with this run's attempt number); throws
   * {@link ClaimSuperseded} naming the others. last_error is kept: the error of an earlier failed attempt
   * stays visible for diagnosis. `asyncCommit`: events that changed nothing commit without waiting for
   * the WAL flush. Lost in a database crash, the rows are `processing` again; the sweeper hands them on
   * and the next run finds them unchanged again.
   */
  private async mark(
    manager: EntityManager,
    outcomes: [ClaimedRow, StripeEventOutcome][],
    options: { asyncCommit: boolean },
  ): Promise<Date> {
    const processedAt = this.clock.now();
    const [asyncCommit, fromAsyncCommit] = options.asyncCommit
      ? [`WITH ${ASYNC_COMMIT_CTE} `, ', async_commit']
      : ['', ''];
    // `processing` is named by the statuses it is not (the same row under the table's CHECK), as in the
    // claim: written `w.status = 'processing'`, the condition matched the predicates of the partial
    // indexes (the sweeper's and the customer index), and under load (young statistics) the plan ANDed
    // two of them and read every row they still held, finished ones included: 3.3 ms and 1,000 buffers
    // per batch of 11 in bench:peers, the largest statement cost per event (webhooks-plans.int-spec.ts).
    const marked = await rows<{ id: string }>(
      manager,
      `${asyncCommit}UPDATE webhook_events w
          SET status = v.status, outcome = v.outcome, processed_at = $1, updated_at = $1
         FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]) AS v(id, attempts, status, outcome)${fromAsyncCommit}
        WHERE w.id = v.id AND w.status NOT IN ${NOT_PROCESSING}
          AND w.attempts = v.attempts
        RETURNING w.id`,
      [
        processedAt,
        outcomes.map(([row]) => row.id),
        outcomes.map(([row]) => row.attempts),
        outcomes.map(([, outcome]) => (outcome === 'ignored' ? 'ignored' : 'processed')),
        outcomes.map(([, outcome]) => outcome),
      ],
    );
    if (marked.length < outcomes.length) {
      const mine = new Set(marked.map((row) => row.id));
      throw new ClaimSuperseded(outcomes.filter(([row]) => !mine.has(row.id)).map(([row]) => row.id));
    }
    return processedAt;
  }

  /**
   * One event in the batch's transaction: its unchanged-check (reading the transaction), else its
   * handler (none: `ignored`). `ran` says whether a handler ran (and may have written).
   */
  private async applyOne(
    manager: EntityManager,
    row: ClaimedRow,
    alone: boolean,
    options: BatchOptions,
    read: { ahead: unknown; spent: boolean },
  ): Promise<{ outcome: StripeEventOutcome; ran: boolean }> {
    const handler = this.dispatcher.handlerFor(row.type);
    if (!handler) return { outcome: 'ignored', ran: false };
    const event = eventFacts(row);
    return this.inContext(row, alone, options, async () => {
      const unchanged = handler.unchanged ? await handler.unchanged(row.payload, { manager, event }) : null;
      if (unchanged) return { outcome: unchanged, ran: false };
      const ctx: StripeEventContext = {
        manager,
        event,
        refetch: (objectId) => this.refetch(objectId),
        ...(read.ahead !== undefined ? { ahead: read.ahead } : {}),
        readsAheadAgain: handler.readAhead !== undefined && !read.spent,
      };
      return { outcome: (await handler.fn(row.payload, ctx)) ?? 'applied', ran: true };
    });
  }

  /** Runs `fn` as the event: its delivery's correlation id, the Stripe event as actor. */
  private inContext<T>(
    row: ClaimedRow,
    alone: boolean,
    options: BatchOptions,
    fn: () => Promise<T>,
  ): Promise<T> {
    const correlationId =
      options.correlationIds?.get(row.id) ??
      (alone ? RequestContext.current()?.correlationId : undefined) ??
      `event:${row.id}`;
    return RequestContext.run({ correlationId, actor: { type: 'stripe_event', id: row.id } }, fn);
  }

  /**
   * Records a failed attempt on the row, if the row is still this run's claim: `dead` (with an alert log
   * line) for a {@link PermanentEventError}, Bull's last attempt or the attempt budget spent; else
   * `failed`, to be retried.
   */
  private async recordFailure(
    row: ClaimedRow,
    error: unknown,
    options: BatchOptions,
  ): Promise<ProcessResult> {
    const { id: eventId, type, attempts } = row;
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
      return { status: 'failed', reason, attempts };
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
