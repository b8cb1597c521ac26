import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { idOf } from '../../../../platform/stripe/stripe-ids.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import type { AccountPaymentMethodView, SetupIntentView } from '../../contracts/payment.view.js';
import { PaymentMethodQueries, toAccountPaymentMethodView } from '../../queries/payment-method.queries.js';

/**
 * Saving, choosing and removing payment methods (R-PAY-2). Stripe is the source of truth: these calls
 * change Stripe, the `payment_method.*` and `customer.updated` webhooks update the mirror, and the
 * answer states the new state as Stripe returned it.
 */
@Injectable()
export class ManagePaymentMethodsHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly accounts: AccountsFacade,
    private readonly audit: AuditFacade,
    private readonly queries: PaymentMethodQueries,
  ) {}

  /**
   * A SetupIntent for the browser (Stripe Elements) to save a card on the account's customer.
   * `requestKey` is the request's `Idempotency-Key`, when it has one (see {@link stripeKey}).
   */
  async createSetupIntent(accountId: string, requestKey?: string): Promise<SetupIntentView> {
    const customer = await this.accounts.ensureStripeCustomer(accountId);
    const intent = await this.gateway.call('setup_intent.create', (stripe) =>
      stripe.setupIntents.create(
        {
          customer,
          usage: 'off_session',
          metadata: { account_id: accountId },
        },
        { idempotencyKey: stripeKey('setup_intent.create', accountId, requestKey) },
      ),
    );
    if (!intent.client_secret) throw new Error(`setup intent ${intent.id} came without a client secret`);
    return { id: intent.id, clientSecret: intent.client_secret, status: intent.status };
  }

  async setDefault(accountId: string, id: string, requestKey?: string): Promise<AccountPaymentMethodView> {
    const row = await this.queries.attachedOf(accountId, id);
    const customer = await this.accounts.ensureStripeCustomer(accountId);
    const before = await this.accounts.defaultPaymentMethodId(accountId);
    const updated = await this.gateway.call('customer.set_default_payment_method', (stripe) =>
      stripe.customers.update(
        customer,
        { invoice_settings: { default_payment_method: row.stripePaymentMethodId } },
        {
          idempotencyKey: stripeKey(
            'customer.set_default_payment_method',
            accountId,
            requestKey,
            row.stripePaymentMethodId,
          ),
        },
      ),
    );
    const pm = updated.invoice_settings?.default_payment_method;
    const defaultId = typeof pm === 'string' ? pm : (pm?.id ?? null);
    const subscriptions = await this.followingSubscriptions(
      accountId,
      customer,
      requestKey,
      row.stripePaymentMethodId,
    );
    await this.audit.record(
      {
        accountId,
        action: 'payment_method.default_set',
        entityType: 'payment_method',
        entityId: row.stripePaymentMethodId,
        before: { defaultPaymentMethodId: before },
        after: { defaultPaymentMethodId: defaultId, subscriptionsMovedToIt: subscriptions },
      },
      this.db.manager,
    );
    return toAccountPaymentMethodView(row, defaultId);
  }

  async detach(accountId: string, id: string, requestKey?: string): Promise<AccountPaymentMethodView> {
    const row = await this.queries.attachedOf(accountId, id);
    // Keyed by the request like the others: a key from the method alone would make Stripe replay a
    // stored 5xx to every retry for 24 hours.
    const detached = await this.gateway.call('payment_method.detach', (stripe) =>
      stripe.paymentMethods.detach(
        row.stripePaymentMethodId,
        {},
        {
          idempotencyKey: stripeKey(
            'payment_method.detach',
            accountId,
            requestKey,
            row.stripePaymentMethodId,
          ),
        },
      ),
    );
    await this.audit.record(
      {
        accountId,
        action: 'payment_method.detach_requested',
        entityType: 'payment_method',
        entityId: row.stripePaymentMethodId,
        before: { status: 'attached' },
        after: { status: detached.customer ? 'attached' : 'detached' },
      },
      this.db.manager,
    );
    return {
      ...toAccountPaymentMethodView(row, null),
      status: detached.customer ? 'attached' : 'detached',
      isDefault: false,
    };
  }

  /**
   * Checkout gives the subscription it creates a default payment method of its own, and Stripe charges a
   * subscription's own default before the customer's: without this, a new default card would not be
   * charged at renewal, nor by a dunning retry, and the old card would keep failing. The customer's live
   * subscriptions that name another card are moved to the new default, as Stripe's Customer Portal does.
   * Returns their ids. Each update is keyed by the request, the subscription and the card: a retry of the
   * request repeats nothing.
   */
  private async followingSubscriptions(
    accountId: string,
    customer: string,
    requestKey: string | undefined,
    paymentMethod: string,
  ): Promise<string[]> {
    const listed = await this.gateway.call('subscription.list_for_customer', (stripe) =>
      stripe.subscriptions.list({ customer, status: 'all', limit: 100 }),
    );
    const moved: string[] = [];
    for (const sub of listed.data) {
      if (sub.status === 'canceled' || sub.status === 'incomplete_expired') continue;
      const own = idOf(sub.default_payment_method);
      if (own === null || own === paymentMethod) continue;
      await this.gateway.call('subscription.set_default_payment_method', (stripe) =>
        stripe.subscriptions.update(
          sub.id,
          { default_payment_method: paymentMethod },
          {
            idempotencyKey: stripeKey(
              'subscription.set_default_payment_method',
              accountId,
              requestKey,
              sub.id,
              paymentMethod,
            ),
          },
        ),
      );
      moved.push(sub.id);
    }
    return moved;
  }
}

/**
 * The Stripe idempotency key of a request-scoped call. Creating a SetupIntent or choosing the default
 * is not one-per-anything we store (an owner may save many cards, and choose A, then B, then A again),
 * so no key derived from the account or the method alone is right: the third call would replay the
 * first answer without changing anything at Stripe. The operation is the request, and the request is
 * named by its `Idempotency-Key` (scoped to the account, as the interceptor scopes it): a client retry
 * with that key after a 5xx (not stored, so it runs again) reaches Stripe with the same key and gets
 * the intent Stripe may already have made, instead of a second one (Stripe also replays a 500 it
 * stored for that key: the client then sends a new key). Without the header each request is a new
 * operation and a fresh key is the honest one (the SDK's own retries reuse it). The correlation id is
 * not used: clients may reuse `x-request-id` across operations.
 */
function stripeKey(
  operation: string,
  accountId: string,
  requestKey: string | undefined,
  ...parts: string[]
): string {
  const request = requestKey !== undefined ? ['request', requestKey] : ['once', randomUUID()];
  return StripeGateway.idempotencyKey(operation, accountId, ...parts, ...request);
}
