import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AccountView, MemberView } from './contracts/account.view.js';
import { AccountQueries } from './queries/account.queries.js';
import {
  StripeCustomerAccountQueries,
  type StripeLookupContext,
} from './queries/stripe-customer-account.queries.js';

/** What other modules may ask of accounts. */
@Injectable()
export class AccountsFacade {
  constructor(
    private readonly queries: AccountQueries,
    private readonly stripeCustomers: StripeCustomerAccountQueries,
  ) {}

  getAccount(accountId: string): Promise<AccountView> {
    return this.queries.get(accountId);
  }

  listMembers(accountId: string): Promise<MemberView[]> {
    return this.queries.members(accountId);
  }

  /** The account linked to a Stripe customer, read in the caller's transaction; null when none. */
  accountForStripeCustomer(manager: EntityManager, stripeCustomerId: string | null): Promise<string | null> {
    return this.stripeCustomers.linkedAccount(manager, stripeCustomerId);
  }

  /** True when the account exists, read in the caller's transaction. */
  accountExists(manager: EntityManager, accountId: string | null): Promise<boolean> {
    return this.stripeCustomers.exists(manager, accountId);
  }

  /**
   * The account a Stripe object belongs to (linked customer, else the app's metadata, else the
   * customer's own metadata re-read from Stripe), for webhook handlers; null when it is no account's.
   */
  resolveStripeCustomerAccount(
    ctx: StripeLookupContext,
    stripeCustomerId: string | null,
    metadataAccountId: string | null = null,
  ): Promise<string | null> {
    return this.stripeCustomers.resolve(ctx, stripeCustomerId, metadataAccountId);
  }
}
