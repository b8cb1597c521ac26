import { initialSubscription, transition, TRIAL_DAYS, trialEndFor } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { RequestContext } from '../../../../platform/context/request-context.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { CatalogFacade } from '../../../catalog/catalog.facade.js';
import { SubscriptionMirror } from '../../machine/subscription-mirror.js';
import { SubscriptionOrmEntity } from '../../persistence/subscription.orm-entity.js';
import { toSnapshot } from '../../persistence/subscription.snapshot.js';
import { transformStripeSubscription } from '../../stripe/transform-stripe-subscription.js';
import { StripeReader } from '../../stripe/stripe-reader.js';

/**
 * Starts the account's one trial (R-SUB-1): 14 days of a trial-eligible plan (Pro or Business in the
 * default catalogue), monthly, without a payment method. Stripe is told to cancel the subscription when
 * the trial ends without one (`trial_settings.end_behavior.missing_payment_method = cancel`): the account
 * then returns to Free with nothing deleted (R-EDGE-14). Once per account, ever: any subscription that
 * ever had a trial refuses another (409 `trial_already_used`), and the Stripe call's idempotency key is
 * the account's, so two requests at once start one trial. The trial ends at local midnight in the
 * account's time zone, 14 days on at least (R-EDGE-3, `trialEndFor`), counted from the time of the
 * customer's Stripe test clock when it is on one (test mode), as Stripe counts it.
 */
@Injectable()
export class StartTrialHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly accounts: AccountsFacade,
    private readonly catalog: CatalogFacade,
    private readonly mirror: SubscriptionMirror,
    private readonly reader: StripeReader,
  ) {}

  async execute(accountId: string, planId: string): Promise<void> {
    const now = this.clock.now();
    const rows = await this.db.getRepository(SubscriptionOrmEntity).find({
      where: { accountId },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    // The machine decides on the account as it stands: its newest subscription, and whether any had a trial.
    const current = rows[0] ? toSnapshot(rows[0]) : initialSubscription();
    const snapshot = { ...current, trialUsed: rows.some((r) => r.trialStart !== null) };
    // The machine only decides whether a trial may start here; the trial's real end (in the account's
    // zone, on its clock) is computed below and comes back through the mirror from Stripe's answer.
    const asked = transition(
      snapshot,
      { type: 'start_trial', planId, interval: 'month', trialEnd: trialEndFor(now, 'UTC', TRIAL_DAYS) },
      now,
      this.catalog.catalogue(),
    );
    if (!asked.ok)
      throw ApiError.fromRejection(asked.error, asked.error.code === 'plan_not_found' ? 'plan' : undefined);
    const prices = await this.catalog.resolvePrices(planId, 'month');
    if (!prices.ok) throw ApiError.fromRejection(prices.error, 'plan');
    const customer = await this.accounts.ensureStripeCustomer(accountId);
    const base = prices.value.base.stripePriceId;
    const account = await this.accounts.getAccount(accountId);
    const startedAt = (await this.reader.customerClockTime(customer)) ?? now;
    const trialEnd = trialEndFor(startedAt, account.timeZone, TRIAL_DAYS);
    const subscription = await this.gateway.call('subscription.trial', (stripe) =>
      stripe.subscriptions.create(
        {
          customer,
          items: [{ price: base, quantity: 1 }],
          trial_end: Math.floor(trialEnd.getTime() / 1000),
          trial_settings: { end_behavior: { missing_payment_method: 'cancel' } },
          payment_settings: { save_default_payment_method: 'on_subscription' },
          metadata: { account_id: accountId },
        },
        { idempotencyKey: StripeGateway.idempotencyKey('subscription.trial', accountId) },
      ),
    );
    await this.db.transaction((manager) =>
      this.mirror.apply(
        transformStripeSubscription(subscription),
        {
          manager,
          // Stripe's time of the start: the customer's test clock's when it has one. The wall clock's
          // would make the subscription look years away from its clock's own time (its card-expiry
          // judgement, and its later events' order against this report, follow that time).
          event: { id: `trial:${subscription.id}`, created: Math.floor(startedAt.getTime() / 1000) },
          actor: RequestContext.actor(),
          refetch: (id) => this.reader.refetch(id),
        },
        { accountId, fresh: true },
      ),
    );
  }
}
