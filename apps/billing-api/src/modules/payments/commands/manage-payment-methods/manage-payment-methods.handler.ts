import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import type { PaymentMethodDto, SetupIntentDto } from '../../http/dto/payment-method.dto.js';
import { PaymentMethodQueries, toPaymentMethodDto } from '../../queries/payment-method.queries.js';

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

  /** A SetupIntent for the browser (Stripe Elements) to save a card on the account's customer. */
  async createSetupIntent(accountId: string): Promise<SetupIntentDto> {
    const customer = await this.accounts.ensureStripeCustomer(accountId);
    // Each request is a new intent; a retried request is answered from the Idempotency-Key store.
    const intent = await this.gateway.call('setup_intent.create', (stripe) =>
      stripe.setupIntents.create(
        {
          customer,
          usage: 'off_session',
          metadata: { account_id: accountId },
        },
        { idempotencyKey: StripeGateway.idempotencyKey('setup_intent.create', accountId, randomUUID()) },
      ),
    );
    if (!intent.client_secret) throw new Error(`setup intent ${intent.id} came without a client secret`);
    return { id: intent.id, clientSecret: intent.client_secret, status: intent.status };
  }

  async setDefault(accountId: string, id: string): Promise<PaymentMethodDto> {
    const row = await this.queries.attachedOf(accountId, id);
    const customer = await this.accounts.ensureStripeCustomer(accountId);
    const before = await this.accounts.defaultPaymentMethodId(accountId);
    const updated = await this.gateway.call('customer.set_default_payment_method', (stripe) =>
      stripe.customers.update(
        customer,
        { invoice_settings: { default_payment_method: row.stripePaymentMethodId } },
        {
          idempotencyKey: StripeGateway.idempotencyKey(
            'customer.set_default_payment_method',
            accountId,
            row.stripePaymentMethodId,
            randomUUID(),
          ),
        },
      ),
    );
    const pm = updated.invoice_settings?.default_payment_method;
    const defaultId = typeof pm === 'string' ? pm : (pm?.id ?? null);
    await this.audit.record(
      {
        accountId,
        action: 'payment_method.default_set',
        entityType: 'payment_method',
        entityId: row.stripePaymentMethodId,
        before: { defaultPaymentMethodId: before },
        after: { defaultPaymentMethodId: defaultId },
      },
      this.db.manager,
    );
    return toPaymentMethodDto(row, defaultId);
  }

  async detach(accountId: string, id: string): Promise<PaymentMethodDto> {
    const row = await this.queries.attachedOf(accountId, id);
    const detached = await this.gateway.call('payment_method.detach', (stripe) =>
      stripe.paymentMethods.detach(row.stripePaymentMethodId),
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
      ...toPaymentMethodDto(row, null),
      status: detached.customer ? 'attached' : 'detached',
      isDefault: false,
    };
  }
}
