import { transition, type SubscriptionInput } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { RequestContext } from '../../../../platform/context/request-context.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { CatalogFacade } from '../../../catalog/catalog.facade.js';
import type { SubscriptionView } from '../../contracts/subscription.view.js';
import { SubscriptionTransitions } from '../../machine/subscription-transitions.js';
import { auditedFields, toSubscriptionView } from '../../persistence/subscription.mapper.js';
import { SubscriptionOrmEntity } from '../../persistence/subscription.orm-entity.js';
import { toSnapshot } from '../../persistence/subscription.snapshot.js';
import { liveSubscriptionOf } from '../../persistence/live-subscription.js';

/** What the owner asks of the account's subscription (R-SUB-5). */
export type CancellationChange = 'cancel_at_period_end' | 'cancel_immediately' | 'resume';

/**
 * Cancels the account's live subscription at the period end (access until then, then Free) or at
 * once (Free now, no refund), or resumes a cancellation before the period ends (R-SUB-5).
 *
 * The machine is asked first, on the subscription as it is: a change it refuses (resume after the
 * period ended, cancel a subscription already canceled) is a 409 that calls Stripe for nothing.
 * Stripe acts next, with an idempotency key of this subscription's version, so a retry never acts
 * twice; then the change goes through the machine on the locked row and its events are published.
 * When Stripe acted but the row moved meanwhile (a webhook), the webhook's report brings the state.
 * Either way the row records Stripe's time of the change (`app_changed_stripe_at`), so that the mirror
 * re-reads, rather than applies, any event created up to then: it may describe the subscription as it
 * was before the change (a resume undone by the cancellation's own late event, say).
 */
@Injectable()
export class ChangeCancellationHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly transitions: SubscriptionTransitions,
    private readonly catalog: CatalogFacade,
  ) {}

  async execute(accountId: string, change: CancellationChange): Promise<SubscriptionView> {
    const current = await liveSubscriptionOf(this.db.manager, accountId);
    const input: SubscriptionInput = { type: change };
    const now = this.clock.now();
    const asked = transition(toSnapshot(current), input, now, this.catalog.catalogue());
    if (!asked.ok) throw ApiError.fromRejection(asked.error);
    const target = asked.value.snapshot.state;
    const id = current.stripeSubscriptionId;
    const key = StripeGateway.idempotencyKey(`subscription.${change}`, current.id, current.version);
    const answered = await this.gateway.call(`subscription.${change}`, (stripe) =>
      change === 'cancel_immediately'
        ? stripe.subscriptions.cancel(id, { invoice_now: false, prorate: false }, { idempotencyKey: key })
        : stripe.subscriptions.update(
            id,
            { cancel_at_period_end: change === 'cancel_at_period_end' },
            { idempotencyKey: key },
          ),
    );
    const changedAt = await this.stripeTimeOf(answered, current.testClockId);
    return this.db.transaction(async (manager) => {
      const repo = manager.getRepository(SubscriptionOrmEntity);
      const row = await repo.findOneOrFail({
        where: { id: current.id },
        lock: { mode: 'for_no_key_update' },
      });
      // Stripe's events about this change (and any of the same second) are re-read by the mirror, not
      // applied as they stand: one may describe the subscription before this change (R-SM-3).
      row.appChangedStripeAt = Math.max(row.appChangedStripeAt ?? 0, changedAt);
      const marked = () => repo.update({ id: row.id }, { appChangedStripeAt: row.appChangedStripeAt });
      // Stripe's own report of this change may have been applied first (its webhook won the race): the
      // state is then the mirror's to record, and the owner's request is still audited, as a request.
      const requested = async (after: SubscriptionOrmEntity): Promise<void> => {
        await this.audit.record(
          {
            accountId: row.accountId,
            action: 'subscription.change_requested',
            entityType: 'subscription',
            entityId: row.id,
            before: auditedFields(current),
            after: auditedFields(after),
            reason: change,
          },
          manager,
        );
      };
      if (row.state === target) {
        await marked();
        await requested(row);
        return toSubscriptionView(row);
      }
      const before = auditedFields(row);
      const from = row.state;
      const outcome = this.transitions.apply(row, { path: [input], changes: [], reach: target }, now);
      if (outcome.refused.length > 0) {
        // The row moved since it was read (a webhook got there first): Stripe's report will settle it.
        await marked();
        const moved = await repo.findOneOrFail({ where: { id: row.id } });
        await requested(moved);
        return toSubscriptionView(moved);
      }
      row.cancelAtPeriodEnd = change === 'cancel_at_period_end';
      row.updatedAt = now;
      await repo.save(row);
      await this.audit.record(
        {
          accountId: row.accountId,
          action: 'subscription.state_changed',
          entityType: 'subscription',
          entityId: row.id,
          before,
          after: auditedFields(row),
          reason: change,
        },
        manager,
      );
      await this.transitions.record(manager, row, outcome, from, RequestContext.actor());
      return toSubscriptionView(row);
    });
  }

  /**
   * Stripe's time (Unix seconds) of the change it just made: on the subscription's test clock, the
   * clock's time (Stripe dates the events of a clock's objects on it); else the `Date` of Stripe's
   * answer (Stripe's clock, not ours), or, for a cancellation, its `canceled_at` when that is later.
   */
  private async stripeTimeOf(answered: Stripe.Response<Stripe.Subscription>, testClockId: string | null) {
    if (testClockId) {
      const clock = await this.gateway.call('test_clock.retrieve', (s) =>
        s.testHelpers.testClocks.retrieve(testClockId),
      );
      return clock.frozen_time;
    }
    const date = Date.parse(String(answered.lastResponse?.headers?.date ?? ''));
    const answeredAt = Math.floor((Number.isFinite(date) ? date : this.clock.now().getTime()) / 1000);
    return Math.max(answeredAt, answered.canceled_at ?? 0);
  }
}
