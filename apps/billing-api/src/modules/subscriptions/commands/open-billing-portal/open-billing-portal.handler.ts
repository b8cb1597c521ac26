import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';

/**
 * A Stripe Customer Portal session for the account (R-SUB-6): payment methods and invoices, on
 * Stripe's hosted page. The account's customer is created at Stripe on first need. A session changes
 * nothing by itself (what the owner does there comes back as webhooks), so no idempotency key is kept.
 */
@Injectable()
export class OpenBillingPortalHandler {
  constructor(
    private readonly gateway: StripeGateway,
    private readonly accounts: AccountsFacade,
    private readonly config: AppConfig,
  ) {}

  async execute(accountId: string): Promise<string> {
    const customer = await this.accounts.ensureStripeCustomer(accountId);
    const session = await this.gateway.call('billing_portal.create', (stripe) =>
      stripe.billingPortal.sessions.create({ customer, return_url: `${this.config.http.publicBaseUrl}/` }),
    );
    return session.url;
  }
}
