import { checkPlanQuote, planQuoteBilling, type SubscriptionInput } from '@billing/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { queryRows, sql, updateRowSql } from '../../../../platform/database/row-sql.js';
import { RequestContext } from '../../../../platform/context/request-context.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeCallError } from '../../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import type { PlanQuoteView } from '../../contracts/plan-quote.view.js';
import type { SubscriptionView } from '../../contracts/subscription.view.js';
import { PlanChangeCheck } from '../../machine/plan-change-check.js';
import { SubscriptionMetrics } from '../../subscription.metrics.js';
import { SubscriptionTransitions } from '../../machine/subscription-transitions.js';
import { auditedFields, toSubscriptionView } from '../../persistence/subscription.mapper.js';
import { SubscriptionOrmEntity } from '../../persistence/subscription.orm-entity.js';
import { toPlanQuoteView } from '../../persistence/subscription-quote.mapper.js';
import { SubscriptionQuoteOrmEntity } from '../../persistence/subscription-quote.orm-entity.js';
import { planChangeItems, SubscriptionBillingReader } from '../../stripe/subscription-billing.reader.js';

/** How long applying a change waits for the subscription row's lock before leaving it to the mirror. */
const ROW_LOCK_WAIT_MS = 250;
/** PostgreSQL's lock_not_available (a lock_timeout expired). */
const LOCK_NOT_AVAILABLE = '55P03';

/** A claim older than this is taken to be from a request that died mid-way: it may be taken over. */
const CLAIM_TIMEOUT_MS = 120_000;

/** What applying a quote did: the subscription afterwards and the quote, now applied. */
export interface AppliedPlanChange {
  subscription: SubscriptionView;
  quote: PlanQuoteView;
}

/** Quote kinds whose plan, interval and seats Stripe bills from the moment the change is made. */
const APPLIED_AT_ONCE: ReadonlySet<string> = new Set(['upgrade', 'seats_added', 'seats_removed']);

/**
 * Applies exactly a quote (R-SUB-3/4): one change per quote, at the quote's proration instant, or a
 * refusal that changes nothing.
 *
 * 1. The quote is claimed by one request (a conditional update: concurrent requests with the same
 *    quote get `quote_already_applied`); a claim left by a request that died is taken over after
 *    two minutes, with the same Stripe idempotency key, so Stripe never acts twice.
 * 2. The subscription is read from Stripe; a quote that expired, or whose subscription's version or
 *    Stripe billing (items, period, credit balance) changed, is refused (`quote_expired`,
 *    `quote_stale`), and the machine is asked again (`outstanding_balance` while past_due,
 *    `downgrade_blocked_by_seats` with the members to remove).
 * 3. Stripe changes the items at the quote's `proration_date`. Upgrades and added seats use
 *    `always_invoice` with `payment_behavior: error_if_incomplete`: Stripe charges first and changes
 *    nothing when the card is declined (402, the quote stays open for another attempt). Downgrades and
 *    removed seats use `create_prorations`: the unused time is a credit on the next invoice.
 * 4. The machine applies the change on the locked row (an upgrade at once; a downgrade is scheduled
 *    for the period end, the current tier kept until then) with its events, audited before/after.
 */

@Injectable()
export class ApplyPlanChangeHandler {
  private readonly logger = new Logger('Subscriptions');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly transitions: SubscriptionTransitions,
    private readonly billing: SubscriptionBillingReader,
    private readonly machine: PlanChangeCheck,
    private readonly metrics: SubscriptionMetrics,
  ) {}

  /**
   * `within`: the caller's transaction (a seat change under the account's seat lock, whose own writes,
   * the member, must commit with the change or not at all) and the member count once its own change is
   * made; the machine's writes and the quote's `applied` then join that transaction. Without it, they
   * commit in a transaction of their own.
   */
  async execute(
    accountId: string,
    quoteId: string,
    within?: { manager: EntityManager; memberCount: number },
  ): Promise<AppliedPlanChange> {
    const quotes = this.db.getRepository(SubscriptionQuoteOrmEntity);
    const quote = await quotes.findOne({ where: { id: quoteId, accountId } });
    if (!quote) throw new ApiError('not_found', 'No such quote for this account.');
    const row = await this.db
      .getRepository(SubscriptionOrmEntity)
      .findOneOrFail({ where: { id: quote.subscriptionId } });
    // Refusals that need no Stripe call come first.
    this.checkQuote(quote, row.version, quote.fingerprint);
    const attempt = await this.claim(quote);
    try {
      const billing = await this.billing.read(quote.stripeSubscriptionId);
      const fresh = await this.db
        .getRepository(SubscriptionOrmEntity)
        .findOneOrFail({ where: { id: quote.subscriptionId } });
      this.checkQuote(quote, fresh.version, billing.fingerprint);
      const inputs = await this.machine.inputs(
        fresh,
        { planId: quote.fromPlanId, interval: quote.fromInterval, seats: quote.fromSeats },
        { planId: quote.planId, interval: quote.interval, seats: quote.seats },
        within?.memberCount,
      );
      // An interval change restarts the billing cycle (Stripe invoices it at once in either direction),
      // except during a trial: as priced (a trial that ended since made the quote stale).
      const restartsCycle = quote.billingCycleRestarts;
      const invoiceNow = planQuoteBilling(quote.kind, restartsCycle) === 'invoice_now';
      const items = planChangeItems(billing, quote);
      const key = StripeGateway.idempotencyKey('subscription.apply_quote', quote.id, attempt);
      const updated = await this.gateway.call('subscription.apply_quote', (s) =>
        s.subscriptions.update(
          quote.stripeSubscriptionId,
          {
            items,
            proration_date: quote.prorationDate,
            proration_behavior: invoiceNow ? 'always_invoice' : 'create_prorations',
            ...(invoiceNow ? { payment_behavior: 'error_if_incomplete' as const } : {}),
          },
          { idempotencyKey: key },
        ),
      );
      // The invoice the change made (none during a trial, where Stripe prorates nothing).
      const latest = typeof updated.latest_invoice === 'string' ? updated.latest_invoice : null;
      const invoiceId = invoiceNow && latest !== billing.latestInvoiceId ? latest : null;
      // The new period of a restarted cycle, as Stripe answered it, goes into the machine's change.
      const newPeriodEnd = restartsCycle ? updated.items.data[0]?.current_period_end : undefined;
      const changes = inputs.map((i) =>
        i.type === 'change_plan' && newPeriodEnd !== undefined
          ? { ...i, currentPeriodEnd: new Date(newPeriodEnd * 1000) }
          : i,
      );
      if (within) return await this.record(within.manager, quote, changes, invoiceId, 'held');
      return await this.recordOrLeaveToMirror(quote, changes, invoiceId);
    } catch (error) {
      await this.release(quote, attempt, error);
      throw error;
    }
  }

  private checkQuote(quote: SubscriptionQuoteOrmEntity, version: number, fingerprint: string): void {
    const verdict = checkPlanQuote(quote, { version, fingerprint }, this.clock.now());
    if (!verdict.ok) throw ApiError.fromRejection(verdict.error);
  }

  /** Claims the quote for this request; the number of the Stripe attempt it makes. */
  private async claim(quote: SubscriptionQuoteOrmEntity): Promise<number> {
    const now = this.clock.now();
    const result: unknown = await this.db.query(
      `UPDATE subscription_quotes SET status = 'applying', claimed_at = $2
        WHERE id = $1 AND (status = 'open' OR (status = 'applying' AND claimed_at < $3))
        RETURNING attempts`,
      [quote.id, now, new Date(now.getTime() - CLAIM_TIMEOUT_MS)],
    );
    // TypeORM answers an UPDATE ... RETURNING on PostgreSQL with [rows, affected].
    const returned = (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as {
      attempts: number;
    }[];
    const claimed = returned[0];
    if (!claimed) {
      throw new ApiError(
        'quote_already_applied',
        'This quote is applied, or being applied, by another request.',
        {
          details: { quoteId: quote.id },
        },
      );
    }
    return claimed.attempts;
  }

  /**
   * Gives the quote back after a failure that changed nothing at Stripe (a refusal, a declined card:
   * the next attempt gets a new Stripe key). When the outcome is unknown (Stripe unreachable), the
   * claim stays: a later request takes it over with the same key and learns what Stripe did.
   */
  private async release(quote: SubscriptionQuoteOrmEntity, attempt: number, error: unknown): Promise<void> {
    if (error instanceof StripeCallError && error.outcomeUnknown) return;
    const charged = error instanceof StripeCallError;
    await this.db.query(
      `UPDATE subscription_quotes SET status = 'open', claimed_at = NULL, attempts = $3
        WHERE id = $1 AND status = 'applying' AND attempts = $2`,
      [quote.id, attempt, charged ? attempt + 1 : attempt],
    );
  }

  /** The machine applies the change on the locked row; the quote is marked applied in the same transaction. */
  /**
   * Applies the change through the machine on the locked row; when that row stays locked longer than
   * ROW_LOCK_WAIT (the webhook mirror holds it while it re-reads the subscription from Stripe), the
   * mirror applies the very change Stripe now reports (same machine inputs, same events): the command
   * then only records the quote as applied, audited, rather than holding a connection while it waits.
   */
  private async recordOrLeaveToMirror(
    quote: SubscriptionQuoteOrmEntity,
    inputs: SubscriptionInput[],
    invoiceId: string | null,
  ): Promise<AppliedPlanChange> {
    try {
      return await this.db.transaction((manager) => this.record(manager, quote, inputs, invoiceId, 'wait'));
    } catch (error) {
      if ((error as { driverError?: { code?: string } }).driverError?.code !== LOCK_NOT_AVAILABLE)
        throw error;
      this.metrics.planChangeLeftToMirror();
      return this.db.transaction((manager) => this.record(manager, quote, inputs, invoiceId, 'mirror'));
    }
  }

  private async record(
    manager: EntityManager,
    quote: SubscriptionQuoteOrmEntity,
    inputs: SubscriptionInput[],
    invoiceId: string | null,
    /** `wait`: lock the row, waiting at most ROW_LOCK_WAIT; `held`: the caller's transaction, lock it
     * (the caller may hold it already); `mirror`: the mirror applies it, record the quote only. */
    lock: 'wait' | 'held' | 'mirror',
  ): Promise<AppliedPlanChange> {
    const now = this.clock.now();
    const repo = manager.getRepository(SubscriptionOrmEntity);
    if (lock === 'mirror') {
      const row = await repo.findOneOrFail({ where: { id: quote.subscriptionId } });
      await this.audit.record(
        {
          accountId: row.accountId,
          action: 'subscription.plan_change_applied',
          entityType: 'subscription',
          entityId: row.id,
          before: {
            ...auditedFields(row),
            // The row may already show the change (the mirror got there first): the quote says what it was.
            ...(APPLIED_AT_ONCE.has(quote.kind)
              ? { planId: quote.fromPlanId, interval: quote.fromInterval, seats: quote.fromSeats }
              : {}),
            quoteId: quote.id,
          },
          after: {
            // An upgrade or a seat change is what Stripe bills from now on, whichever writer brings the
            // row there; a downgrade (or its withdrawal) may wait for the period end: left to the mirror.
            ...(APPLIED_AT_ONCE.has(quote.kind)
              ? { planId: quote.planId, interval: quote.interval, seats: quote.seats }
              : {}),
            quoteId: quote.id,
            kind: quote.kind,
            amountDueNow: quote.amountDueNow,
            stripeInvoiceId: invoiceId,
            appliedBy: 'subscription_mirror',
          },
          reason: quote.kind,
        },
        manager,
      );
      return this.markApplied(manager, quote, row, invoiceId, now);
    }
    if (lock === 'wait') await manager.query(`SET LOCAL lock_timeout = '${ROW_LOCK_WAIT_MS}ms'`);
    const row = await repo.findOneOrFail({
      where: { id: quote.subscriptionId },
      lock: { mode: 'for_no_key_update' },
    });
    const before = auditedFields(row);
    const from = row.state;
    // Stripe's own report of this change (a webhook) may have been applied first: then only what is
    // left to do is applied (nothing, when the row already shows the change).
    const reached =
      quote.kind === 'downgrade_withdrawn'
        ? row.pendingPlanId === null
        : (row.planId === quote.planId && row.interval === quote.interval) ||
          (row.pendingPlanId === quote.planId && row.pendingInterval === quote.interval);
    const left = inputs.filter((i) =>
      i.type === 'change_plan' ? !reached : i.type === 'change_seats' ? row.seats !== i.seats : true,
    );
    const outcome = this.transitions.apply(row, { path: [], changes: left }, now);
    // Stripe's events about this change (and any of the same second) are re-read by the mirror, not
    // applied as they stand: one may describe the subscription before this change.
    row.appChangedStripeAt = Math.max(row.appChangedStripeAt ?? 0, quote.prorationDate);
    row.updatedAt = now;
    // The row is locked and loaded: written back whole in one statement (`save` would read it again to
    // compare first; `npm run bench:plan-changes`).
    const { id, ...columns } = row;
    await queryRows(manager, updateRowSql(manager, SubscriptionOrmEntity, columns, sql`id = ${id}::uuid`));
    await this.audit.record(
      {
        accountId: row.accountId,
        action: 'subscription.plan_change_applied',
        entityType: 'subscription',
        entityId: row.id,
        before: { ...before, quoteId: quote.id },
        after: {
          ...auditedFields(row),
          quoteId: quote.id,
          kind: quote.kind,
          amountDueNow: quote.amountDueNow,
          creditBalanceAdded: quote.creditBalanceAdded,
          stripeInvoiceId: invoiceId,
        },
        reason: quote.kind,
      },
      manager,
    );
    await this.transitions.record(manager, row, outcome, from, RequestContext.actor());
    if (outcome.refused.length > 0) {
      this.logger.warn({ msg: 'plan change applied at Stripe, machine refused part', quoteId: quote.id });
    }
    return this.markApplied(manager, quote, row, invoiceId, now);
  }

  private async markApplied(
    manager: EntityManager,
    quote: SubscriptionQuoteOrmEntity,
    row: SubscriptionOrmEntity,
    invoiceId: string | null,
    now: Date,
  ): Promise<AppliedPlanChange> {
    quote.status = 'applied';
    quote.appliedAt = now;
    quote.stripeInvoiceId = invoiceId;
    await manager
      .getRepository(SubscriptionQuoteOrmEntity)
      .update(
        { id: quote.id },
        { status: 'applied', appliedAt: now, stripeInvoiceId: invoiceId, claimedAt: null },
      );
    return { subscription: toSubscriptionView(row), quote: toPlanQuoteView(quote) };
  }
}
