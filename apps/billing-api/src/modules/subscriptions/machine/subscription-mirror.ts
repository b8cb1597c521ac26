import {
  decideStaleness,
  initialSubscription,
  isLiveState,
  inputsForStripeReport,
  reportedState,
  type StalenessDecision,
} from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { findRows, queryRows, sql, updateRowSql } from '../../../platform/database/row-sql.js';
import type { Actor } from '../../../platform/context/request-context.js';
import { ReadAheadOutdated } from '../../webhooks/contracts/stripe-event-handler.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import { auditedFields, changedFields } from '../persistence/subscription.mapper.js';
import { applySnapshot, toSnapshot } from '../persistence/subscription.snapshot.js';
import { SubscriptionOrmEntity } from '../persistence/subscription.orm-entity.js';
import {
  subscriptionStateOf,
  transformStripeSubscription,
  withCatalogPlan,
  type SubscriptionValues,
} from '../stripe/transform-stripe-subscription.js';
import { SubscriptionTransitions, type TransitionOutcome } from './subscription-transitions.js';

/** What the mirror is told of the report it applies: when it was made, by whom, and how to re-read. */
export interface MirrorContext {
  /** The transaction every write goes through. */
  manager: EntityManager;
  /** The report's time (a Stripe event's `created`, Unix seconds) and id, for ordering and auditing. */
  event: { id: string; created: number };
  /** Who made the change: the Stripe event by default; the user when an API command reports it. */
  actor?: Actor;
  /** Re-reads a Stripe object (null when Stripe has no such object). */
  refetch(objectId: string): Promise<Record<string, unknown> | null>;
}

export type MirrorOutcome = 'applied' | 'skipped_stale' | 'ignored';

/**
 * The subscription rows' lock: FOR NO KEY UPDATE keeps every other writer out (the other mirror runs,
 * the app's commands) yet lets a quote referencing the row be inserted meanwhile (its foreign key's
 * check takes FOR KEY SHARE, which FOR UPDATE would block).
 */
const ROW_LOCK = { mode: 'for_no_key_update' as const };

/** What Stripe said of a subscription when re-read before its row was locked, and the row's xmin then. */
export interface ReadAhead {
  readonly kind: 'subscription_read_ahead';
  /**
   * `null`: there was no row; the read is good for the transaction that then inserts it (no other
   * transaction can have written it in between: the insert would have met that row).
   */
  stamp: string | null;
  values: SubscriptionValues;
  /**
   * The transaction that found the row unchanged since (and locked it): for the object's later events
   * of the same batch the read stays good, the row's `xmin` being that transaction's own by then.
   */
  checkedIn?: EntityManager;
}

function isReadAhead(value: unknown): value is ReadAhead {
  return (value as ReadAhead | undefined)?.kind === 'subscription_read_ahead';
}

export interface ApplyOptions {
  /** The account to file a new subscription under when its customer is not linked (checkout). */
  accountId?: string | null;
  /**
   * The values were read from Stripe after this transaction locked the row (or the row did not exist):
   * they are what Stripe says now and are applied whatever events came before.
   */
  fresh?: boolean;
  /** The subscription as re-read before the transaction (`readAhead`), when it was. */
  ahead?: unknown;
  /**
   * The webhook batch reads ahead again on ReadAheadOutdated: a re-read found needed under the lock
   * without a good read-ahead throws it instead of calling Stripe while holding the row's lock.
   */
  readsAheadAgain?: boolean;
}

/**
 * Applies what Stripe reports of a subscription to `subscriptions`, for the webhooks and for the API
 * commands that just asked Stripe (checkout callback, trial): under the ordering rule (R-SM-3,
 * `decideStaleness`), an older report is skipped and a same-second one re-reads the subscription. What
 * Stripe reports becomes machine inputs (`inputsForStripeReport`, R-SM-2); the app state changes only
 * through the subscription machine, which may refuse (recorded, left for reconciliation). Reports of
 * one subscription converge on one row (upsert by Stripe id, R-SUB-2). Every change of state, plan,
 * seats or cancellation is audited.
 */
@Injectable()
export class SubscriptionMirror {
  /** The rows `lockBatch` locked and read, by transaction, until `apply` takes them. */
  private readonly locked = new WeakMap<EntityManager, Map<string, SubscriptionOrmEntity>>();

  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly accounts: AccountsFacade,
    private readonly transitions: SubscriptionTransitions,
    private readonly catalog: CatalogFacade,
  ) {}

  /**
   * Re-reads the subscription from Stripe and applies it as what Stripe says now. The row is locked
   * before the read, so nothing applied meanwhile can be newer than what the read returns.
   */
  async applyFresh(
    stripeSubscriptionId: string,
    ctx: MirrorContext,
    options: ApplyOptions = {},
  ): Promise<MirrorOutcome> {
    await ctx.manager
      .getRepository(SubscriptionOrmEntity)
      .findOne({ where: { stripeSubscriptionId }, lock: ROW_LOCK });
    const fresh = await ctx.refetch(stripeSubscriptionId);
    if (!fresh) return 'ignored';
    return this.apply(transformStripeSubscription(fresh as unknown as Stripe.Subscription), ctx, {
      ...options,
      fresh: true,
    });
  }

  /**
   * Plan, interval, prices and seats as the catalogue reads the items' Stripe prices (the price ids
   * catalogue sync recorded, so a price replaced after an amount change, which lost its lookup key,
   * still maps to its plan), not from lookup keys alone.
   */
  private async planned(
    values: SubscriptionValues,
    ctx: Pick<MirrorContext, 'manager'>,
  ): Promise<SubscriptionValues> {
    return withCatalogPlan(values, await this.catalog.describeItems(values.items, ctx.manager));
  }

  /**
   * Locks the mirrored rows of these subscriptions in one statement (a webhook batch's, before its
   * handlers run: `@LocksStripeEventBatches`) and keeps them for this transaction: `apply` takes a kept
   * row, once, instead of locking and reading it again. Ordered by id, so that two such locks never
   * wait for each other in a cycle.
   */
  async lockBatch(stripeSubscriptionIds: string[], manager: EntityManager): Promise<void> {
    const rows = await findRows(
      manager,
      SubscriptionOrmEntity,
      sql`stripe_subscription_id = ANY(${stripeSubscriptionIds}::text[]) ORDER BY id`,
      { lock: 'for_no_key_update' },
    );
    const kept = this.locked.get(manager) ?? new Map<string, SubscriptionOrmEntity>();
    for (const row of rows) kept.set(row.stripeSubscriptionId, row);
    this.locked.set(manager, kept);
  }

  /** A row `lockBatch` kept for this transaction, taken once (a later event reads it again). */
  private takeLocked(manager: EntityManager, stripeSubscriptionId: string): SubscriptionOrmEntity | null {
    const kept = this.locked.get(manager);
    const row = kept?.get(stripeSubscriptionId) ?? null;
    if (row) kept?.delete(stripeSubscriptionId);
    return row;
  }

  async apply(
    raw: SubscriptionValues,
    ctx: MirrorContext,
    options: ApplyOptions = {},
  ): Promise<MirrorOutcome> {
    const incoming = await this.planned(raw, ctx);
    const repo = ctx.manager.getRepository(SubscriptionOrmEntity);
    const lock = ROW_LOCK;
    const actor: Actor = ctx.actor ?? { type: 'stripe_event', id: ctx.event.id };
    // A prepared statement: on the webhook hot path, TypeORM's query builder would build and send it anew.
    const locked = async () =>
      this.takeLocked(ctx.manager, incoming.stripeSubscriptionId) ??
      (
        await findRows(
          ctx.manager,
          SubscriptionOrmEntity,
          sql`stripe_subscription_id = ${incoming.stripeSubscriptionId}`,
          { lock: 'for_no_key_update' },
        )
      )[0] ??
      null;
    const ahead = !options.fresh && isReadAhead(options.ahead) ? options.ahead : null;
    let row: SubscriptionOrmEntity | null = await locked();
    // Another transaction wrote the row while it was re-read (typically the app's own command recording
    // the change this event reports): the batch reads it ahead again and runs again.
    // Checked once per transaction: from then on this transaction holds the row's lock.
    if (ahead && row && ahead.checkedIn !== ctx.manager) {
      if (ahead.stamp === null || (await this.stampOf(row.id, ctx)) !== ahead.stamp)
        throw new ReadAheadOutdated();
      ahead.checkedIn = ctx.manager;
    }
    if (!row) {
      const accountId = await this.accountFor(incoming, ctx, options);
      if (!accountId) return 'ignored';
      // First seen: mirrored on the Free tier, then brought to what Stripe reports through the machine.
      const created = this.newRow(incoming, accountId, ctx);
      const inserted = await ctx.manager
        .createQueryBuilder()
        .insert()
        .into(SubscriptionOrmEntity)
        .values(created)
        .orIgnore()
        .returning('id')
        .execute();
      row = await repo.findOne({ where: { stripeSubscriptionId: incoming.stripeSubscriptionId }, lock });
      if (!row) throw new Error(`subscription ${incoming.stripeSubscriptionId} neither inserted nor found`);
      if ((inserted.raw as unknown[]).length > 0) {
        // Read ahead while there was no row: good for this transaction, which now holds the new row.
        if (ahead && ahead.stamp === null) ahead.checkedIn = ctx.manager;
        await this.audit.record(
          {
            accountId,
            action: 'subscription.mirrored',
            entityType: 'subscription',
            entityId: created.id,
            before: null,
            after: { stripeSubscriptionId: created.stripeSubscriptionId, ...auditedFields(created) },
            actor,
          },
          ctx.manager,
        );
        return this.applyToRow(row, incoming, ctx, actor);
      }
      // Another worker inserted it meanwhile. A read made before that row was locked is no fresher
      // than it: a fresh report is read again, now under the row's lock; an event is ordered against it.
      if (options.fresh) {
        const again = await ctx.refetch(incoming.stripeSubscriptionId);
        if (!again) return 'ignored';
        const current = await this.planned(
          transformStripeSubscription(again as unknown as Stripe.Subscription),
          ctx,
        );
        return this.applyToRow(row, current, ctx, actor);
      }
    }
    const ordered = await this.ordered(row, incoming, ctx, options, ahead);
    if (typeof ordered === 'string') return ordered;
    return this.applyToRow(row, ordered, ctx, actor);
  }

  /**
   * The values to apply under the ordering rule (R-SM-3): a read made under the row's lock is what
   * Stripe says now, newer than anything applied; an older event is skipped; a same-second one cannot be
   * ordered, so the subscription is re-read.
   */
  private async ordered(
    row: SubscriptionOrmEntity,
    values: SubscriptionValues,
    ctx: MirrorContext,
    options: ApplyOptions,
    ahead: ReadAhead | null,
  ): Promise<SubscriptionValues | 'skipped_stale' | 'ignored'> {
    if (options.fresh) return values;
    const decision = this.staleness(row, ctx);
    if (decision === 'skip_stale') return 'skipped_stale';
    if (decision === 'apply') return values;
    // Re-read before the lock, and no other transaction has written the row since (checked in `apply`).
    if (ahead) return ahead.values;
    // Written since the read-ahead looked at it (a batch of the same second): read ahead again.
    if (options.readsAheadAgain) throw new ReadAheadOutdated();
    const fresh = await ctx.refetch(values.stripeSubscriptionId);
    if (!fresh) return 'ignored';
    return this.planned(transformStripeSubscription(fresh as unknown as Stripe.Subscription), ctx);
  }

  /** Brings the locked row to what Stripe reports, through the machine, and audits the change. */
  private async applyToRow(
    row: SubscriptionOrmEntity,
    values: SubscriptionValues,
    ctx: MirrorContext,
    actor: Actor,
  ): Promise<MirrorOutcome> {
    const before = auditedFields(row);
    const fromState = row.state;
    const version = row.version;
    // The machine starts from the row as it was (its periods too), then Stripe's facts are written.
    const outcome = this.moveToReported(row, values, ctx);
    this.assignStripeFacts(row, values);
    row.lastEventCreated = Math.max(row.lastEventCreated, ctx.event.created);
    const after = auditedFields(row);
    const changed = changedFields(before, after).length > 0;
    // Stripe's own facts (status, cancellation, periods) count as a change of the row too.
    if (changed && row.version === version) row.version += 1;
    row.updatedAt = this.clock.now();
    // The row is locked and loaded: its columns and, when it changed, its audit record, in one statement
    // (`save` would load the row again to compare, and the audit record would be a second round trip).
    const { id, ...columns } = row;
    const update = updateRowSql(ctx.manager, SubscriptionOrmEntity, columns, sql`id = ${id}::uuid`);
    const audit = changed
      ? this.audit.recordSql(ctx.manager, {
          accountId: row.accountId,
          action: before.state !== after.state ? 'subscription.state_changed' : 'subscription.updated',
          entityType: 'subscription',
          entityId: row.id,
          before,
          after,
          actor,
        })
      : null;
    await queryRows(ctx.manager, audit ? sql`WITH subscriptions__row AS (${update}) ${audit}` : update);
    await this.transitions.record(ctx.manager, row, outcome, fromState, actor);
    return 'applied';
  }

  private staleness(
    row: Pick<SubscriptionOrmEntity, 'lastEventCreated' | 'appChangedStripeAt'>,
    ctx: { event: Pick<MirrorContext['event'], 'created'> },
  ): StalenessDecision {
    return decideStaleness({
      lastApplied: {
        eventCreated: row.lastEventCreated,
        ...(row.appChangedStripeAt !== null ? { appChangedAt: row.appChangedStripeAt } : {}),
      },
      incoming: { eventCreated: ctx.event.created },
    });
  }

  /**
   * When the report cannot be ordered against the row as committed (a same-second event, or one not
   * newer than the app's own change at Stripe), the subscription is re-read from Stripe BEFORE the row
   * is locked: held across a Stripe call (600 ms and more), the lock made the app's own commands wait
   * (a plan change recording its quote, a cancellation). The re-read is used under the lock only when
   * no other transaction has written the row since it was read here (the same `xmin`, the row
   * version's transaction): nothing applied before that read can be newer than Stripe's answer, which
   * came after it. Otherwise `apply` throws ReadAheadOutdated: the webhook batch is rolled back, the
   * subscription read ahead again and the batch run again (a few times, then without a read-ahead: the
   * row is re-read under the lock, as before).
   */
  async readAhead(
    reports: readonly { values: SubscriptionValues; created: number }[],
    ctx: Pick<MirrorContext, 'manager' | 'refetch'>,
  ): Promise<Map<string, ReadAhead>> {
    const ids = [...new Set(reports.map((r) => r.values.stripeSubscriptionId))];
    const seen = await queryRows<{ id: string; stamp: string; last: string; app: string | null }>(
      ctx.manager,
      sql`SELECT stripe_subscription_id AS id, xmin::text AS stamp, last_event_created::text AS last,
                 app_changed_stripe_at::text AS app
            FROM subscriptions WHERE stripe_subscription_id = ANY(${ids}::text[])`,
    );
    const committed = new Map<
      string,
      { stamp: string | null; lastEventCreated: number; appChangedStripeAt: number | null }
    >(
      seen.map((row) => [
        row.id,
        {
          stamp: row.stamp,
          lastEventCreated: Number(row.last),
          appChangedStripeAt: row.app === null ? null : Number(row.app),
        },
      ]),
    );
    // By subscription: its events in order, until one cannot be ordered against the committed row.
    const toRead = new Map<string, string | null>();
    for (const { values, created } of reports) {
      const id = values.stripeSubscriptionId;
      const row = committed.get(id);
      if (toRead.has(id)) continue;
      // A new subscription: its first event inserts it (its next events of the same second are re-reads).
      if (!row) {
        committed.set(id, { stamp: null, lastEventCreated: created, appChangedStripeAt: null });
        continue;
      }
      const decision = this.staleness(row, { event: { created } });
      if (decision === 'refetch') toRead.set(id, row.stamp);
      // Applied by the batch before the object's next event: a same-second one is then a re-read too.
      else if (decision === 'apply') row.lastEventCreated = Math.max(row.lastEventCreated, created);
    }
    const aheads = new Map<string, ReadAhead>();
    await Promise.all(
      [...toRead].map(async ([id, stamp]) => {
        const fresh = await ctx.refetch(id);
        if (!fresh) return;
        const read = transformStripeSubscription(fresh as unknown as Stripe.Subscription);
        aheads.set(id, { kind: 'subscription_read_ahead', stamp, values: await this.planned(read, ctx) });
      }),
    );
    return aheads;
  }

  /** The transaction that wrote the row's current version (`xmin`): the read-ahead's validity check. */
  private async stampOf(id: string, ctx: Pick<MirrorContext, 'manager'>): Promise<string | undefined> {
    const [found] = await queryRows<{ stamp: string }>(
      ctx.manager,
      sql`SELECT xmin::text AS stamp FROM subscriptions WHERE id = ${id}::uuid`,
    );
    return found?.stamp;
  }

  /**
   * Turns what Stripe reports into machine inputs (R-SM-2) and applies them: the app state is the
   * machine's, never set from the mapping alone. The machine's clock is the event's time (Day 0 of a
   * failed payment is when it failed, not when the worker got to it).
   */
  private moveToReported(
    row: SubscriptionOrmEntity,
    values: SubscriptionValues,
    ctx: MirrorContext,
  ): TransitionOutcome {
    const eventTime = new Date(ctx.event.created * 1000);
    const report = {
      // Suspension is the app's dunning decision (grace_exhausted), not a number of days seen here:
      // a suspended subscription Stripe still reports past_due stays suspended (`reportedState`).
      state: reportedState(row.state, subscriptionStateOf(values, { pastDueSince: null, now: eventTime })),
      planId: values.planId,
      interval: values.interval,
      seats: values.seats,
      currentPeriodEnd: values.currentPeriodEnd,
      trialEnd: values.trialEnd,
    };
    const inputs = inputsForStripeReport(toSnapshot(row), report);
    if (!inputs.ok) {
      return { events: [], refused: [{ to: report.state, input: null, rejection: inputs.error }] };
    }
    return this.transitions.apply(row, { ...inputs.value, reach: report.state }, eventTime);
  }

  /** The customer's account, else the account the app named (checkout reference or metadata). */
  private async accountFor(
    values: SubscriptionValues,
    ctx: MirrorContext,
    options: ApplyOptions,
  ): Promise<string | null> {
    if (options.accountId) {
      return (
        (await this.accounts.accountForStripeCustomer(ctx.manager, values.stripeCustomerId)) ??
        options.accountId
      );
    }
    return this.accounts.resolveStripeCustomerAccount(ctx, values.stripeCustomerId, values.metadataAccountId);
  }

  private newRow(values: SubscriptionValues, accountId: string, ctx: MirrorContext): SubscriptionOrmEntity {
    const now = this.clock.now();
    const row = {
      id: randomUUID(),
      accountId,
      stripeSubscriptionId: values.stripeSubscriptionId,
      lastEventCreated: ctx.event.created,
      createdAt: now,
      updatedAt: now,
    } as SubscriptionOrmEntity;
    applySnapshot(row, { ...initialSubscription(), version: 1 });
    this.assignStripeFacts(row, values);
    return row;
  }

  /**
   * What Stripe reports, onto the row; the app's side (state, plan, seats, dunning) is the machine's.
   * On the Free tier (not started, or ended) the row keeps the plan and seats Stripe bills or billed,
   * for the record: the machine reads a free-tier subscription as the Free plan whatever they say.
   */
  private assignStripeFacts(row: SubscriptionOrmEntity, values: SubscriptionValues): void {
    if (!isLiveState(row.state)) {
      row.planId = values.planId;
      row.interval = values.interval;
      row.seats = values.seats;
    }
    row.stripeCustomerId = values.stripeCustomerId;
    row.stripeStatus = values.stripeStatus;
    row.basePriceId = values.basePriceId;
    row.seatPriceId = values.seatPriceId;
    row.currency = values.currency;
    row.cancelAtPeriodEnd = values.cancelAtPeriodEnd;
    row.cancelAt = values.cancelAt;
    row.canceledAt = values.canceledAt;
    row.cancellationReason = values.cancellationReason;
    row.currentPeriodStart = values.currentPeriodStart;
    row.currentPeriodEnd = values.currentPeriodEnd;
    row.trialStart = values.trialStart;
    row.trialEnd = values.trialEnd;
    row.endedAt = values.endedAt;
    row.latestInvoiceId = values.latestInvoiceId;
    row.stripeCreatedAt = values.stripeCreatedAt;
    row.testClockId = values.testClockId;
  }
}
