import { SetMetadata } from '@nestjs/common';
import type Stripe from 'stripe';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../../../platform/context/request-context.js';

/**
 * How a module takes part in webhook processing (R-WH-3): a method of one of its providers decorated
 * with `@HandlesStripeEvents('customer.subscription.updated', ...)`. The webhooks module discovers the
 * handlers at start-up (two handlers for one event type stop the start-up), and for each stored event
 * calls the one handler of its type inside ONE database transaction that also marks the inbox row
 * processed: the handler's writes and the "processed" mark commit together or not at all.
 *
 * A handler must:
 * - do every write through `ctx.manager` (never another connection or transaction), and have no effect
 *   outside it but reads (`ctx.refetch`) and after-commit work (outbox jobs): two runs of one event (a
 *   duplicate job, the sweeper's hand-over) may both execute the handler, and only one of them commits;
 * - lock the aggregate row it changes (`SELECT ... FOR UPDATE` / `lock: { mode: 'pessimistic_write' }`);
 * - apply the ordering rule (R-SM-3): compare `ctx.event.created` (and the object's own state) with
 *   what was last applied to that aggregate, skip stale events, and re-read the object through
 *   `ctx.refetch` when the order cannot be decided (same second);
 * - write the audit record of any billing-impacting change (AuditFacade.record(..., ctx.manager)) with
 *   actor `{ type: 'stripe_event', id: event id }`;
 * - throw {@link PermanentEventError} for a failure no retry can fix (e.g. a domain rejection such as an
 *   invalid transition): the event is dead-lettered at once with that reason. Any other error is
 *   treated as transient and retried with backoff, then dead-lettered.
 */
export const STRIPE_EVENT_HANDLER = 'billing:stripe-event-handler';

/** The event as stored in the inbox: Stripe's event object, verified and parsed. */
export type StripeEventPayload = Stripe.Event;

export interface StripeEventContext {
  /** The transaction every write of the handler goes through. */
  manager: EntityManager;
  /** Facts about the event, for ordering and auditing. */
  event: { id: string; type: string; created: number; livemode: boolean };
  /**
   * Re-reads the current state of a Stripe object through the gateway (e.g. `sub_…`, `in_…`, `pi_…`),
   * for when delivery order cannot decide which state is newer. Returns null when Stripe has no such
   * object any more.
   */
  refetch(objectId: string): Promise<Record<string, unknown> | null>;
  /**
   * Who applies the report when it is not a Stripe event delivered to us: reconciliation feeds the
   * Stripe objects it finds ahead of the app through the same handlers with its own actor (audited as
   * such). Absent for webhooks: the actor is the event ({@link eventActor}).
   */
  actor?: Actor;
  /**
   * What the type's read-ahead (`@ReadsStripeEventsAhead`) returned for this event's object before the
   * transaction began (the same for each of the object's events in the batch); undefined when none was
   * made (not needed, applied outside a batch, or outdated too often). A handler that finds it outdated
   * (on the first of the object's events it locks the row for) throws {@link ReadAheadOutdated}.
   */
  ahead?: unknown;
  /**
   * True when the batch reads the object ahead again on {@link ReadAheadOutdated} (the type has a
   * read-ahead, and the object's are not spent in this run): a handler that finds under its lock that it
   * must re-read the object and has no good read-ahead (the row was written, by another batch of the
   * same second, after the read-ahead looked at it) throws it rather than hold its locks across a
   * Stripe call. False or absent: it reads under the lock.
   */
  readsAheadAgain?: boolean;
}

/** The actor a handler audits with: the context's (reconciliation), else the Stripe event. */
export function eventActor(ctx: Pick<StripeEventContext, 'event' | 'actor'>): Actor {
  return ctx.actor ?? { type: 'stripe_event', id: ctx.event.id };
}

/** What a handler did, recorded on the inbox row. */
export type StripeEventOutcome = 'applied' | 'skipped_stale' | 'ignored';

export type StripeEventHandlerFn = (
  payload: StripeEventPayload,
  ctx: StripeEventContext,
) => Promise<StripeEventOutcome | undefined>;

/** Declares the method as the handler of these Stripe event types. */
export const HandlesStripeEvents = (...types: string[]): MethodDecorator =>
  SetMetadata(STRIPE_EVENT_HANDLER, types);

export const STRIPE_EVENT_UNCHANGED_CHECK = 'billing:stripe-event-unchanged-check';

/** What an unchanged-check reads with: committed state, outside any transaction, and the event's facts. */
export interface StripeEventReadContext {
  manager: EntityManager;
  event: StripeEventContext['event'];
}

/**
 * Optional beside a handler: tells from committed state, read without a transaction or a lock, that
 * the handler would write nothing for this event (e.g. the `payment_intent.succeeded` that confirms
 * what the API already wrote from Stripe's synchronous answer), and returns the outcome the handler
 * would record; null when the handler must run. The event is then marked with that outcome in one
 * statement, and the handler's transaction, its row lock and their round trips are saved.
 *
 * It may answer only where the handler, run on that same state, would write nothing and call nothing
 * but reads. A change committed after the check's read is then ordered after the event, as if the
 * event had been delivered first: an order R-WH-4 already allows.
 */
export type StripeEventUnchangedCheckFn = (
  payload: StripeEventPayload,
  ctx: StripeEventReadContext,
) => Promise<StripeEventOutcome | null>;

/** Declares the method as the unchanged-check of these Stripe event types (each must have a handler). */
export const ChecksStripeEventsUnchanged = (...types: string[]): MethodDecorator =>
  SetMetadata(STRIPE_EVENT_UNCHANGED_CHECK, types);

export const STRIPE_EVENT_BATCH_LOCK = 'billing:stripe-event-batch-lock';

/**
 * Optional beside a handler: locks, in one statement, the aggregate rows its handler is about to apply a
 * batch's events of these types to, and keeps them for the handler in that transaction (the handler
 * takes a kept row instead of locking and reading it again, and locks and reads what was not kept). The
 * batch calls it in its transaction before any handler runs, with the events that are each the first
 * of their Stripe customer to run in the batch: nothing earlier in the transaction can have written their
 * rows. One statement per batch instead of one per event (issue 22, `bench:peers`).
 */
export type StripeEventBatchLockFn = (
  payloads: StripeEventPayload[],
  manager: EntityManager,
) => Promise<void>;

/** Declares the method as the batch lock of these Stripe event types (each must have a handler). */
export const LocksStripeEventBatches = (...types: string[]): MethodDecorator =>
  SetMetadata(STRIPE_EVENT_BATCH_LOCK, types);

export const STRIPE_EVENT_READ_AHEAD = 'billing:stripe-event-read-ahead';

/** What a read-ahead reads with: committed state (outside any transaction) and Stripe (`refetch`). */
export interface StripeEventReadAheadContext {
  manager: EntityManager;
  refetch: StripeEventContext['refetch'];
}

/**
 * Optional beside a handler: the Stripe reads the handler would make while it holds its row lock
 * (`ctx.refetch` of an event whose order cannot be decided), made before the batch's transaction
 * begins, from committed state, so that no row lock of the batch is held across a Stripe call. Called
 * once per batch with the batch's events of its types, in apply order (read committed state for all of
 * them in one statement); answers by Stripe object id, and what it answers for an object is handed to
 * the handler as `ctx.ahead` for each event of that object in the batch. The handler must check under
 * its lock that it is still good (nothing written since it was read), else throw
 * {@link ReadAheadOutdated}. A read-ahead that throws is as one that returned nothing: the handlers read
 * under their locks.
 */
export type StripeEventReadAheadFn = (
  payloads: StripeEventPayload[],
  ctx: StripeEventReadAheadContext,
) => Promise<ReadonlyMap<string, unknown>>;

/** Declares the method as the read-ahead of these Stripe event types (each must have a handler). */
export const ReadsStripeEventsAhead = (...types: string[]): MethodDecorator =>
  SetMetadata(STRIPE_EVENT_READ_AHEAD, types);

/**
 * Thrown by a handler whose `ctx.ahead` is outdated (its row was written after the read-ahead read it):
 * the batch's transaction is rolled back, the event read ahead again, and the batch applied again; after
 * a few times the handler gets no read-ahead and reads under its lock.
 */
export class ReadAheadOutdated extends Error {
  constructor() {
    super('the read-ahead is outdated: the row was written since');
    this.name = 'ReadAheadOutdated';
  }
}

/** A failure that no retry can fix: the event goes to the dead letters at once, with this reason. */
export class PermanentEventError extends Error {
  constructor(
    message: string,
    readonly code: string = 'permanent_failure',
  ) {
    super(message);
    this.name = 'PermanentEventError';
  }
}
