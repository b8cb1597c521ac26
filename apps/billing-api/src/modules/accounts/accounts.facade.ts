import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { EnsureStripeCustomerHandler } from './commands/ensure-stripe-customer/ensure-stripe-customer.handler.js';
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
    @InjectDataSource() private readonly db: DataSource,
    private readonly queries: AccountQueries,
    private readonly stripeCustomers: StripeCustomerAccountQueries,
    private readonly ensureCustomer: EnsureStripeCustomerHandler,
  ) {}

  /** The account's Stripe customer id, created (idempotently) on first need. 404 when no such account. */
  ensureStripeCustomer(accountId: string): Promise<string> {
    return this.ensureCustomer.execute(accountId);
  }

  /** The customer's default payment method as last mirrored from Stripe (`pm_…`), or null. */
  async defaultPaymentMethodId(accountId: string): Promise<string | null> {
    const rows: { pm: string | null }[] = await this.db.query(
      `SELECT stripe_default_payment_method_id AS pm FROM accounts WHERE id = $1`,
      [accountId],
    );
    return rows[0]?.pm ?? null;
  }

  /** The account; read in the caller's transaction when a manager is given. 404 when no such account. */
  getAccount(accountId: string, manager?: EntityManager): Promise<AccountView> {
    return this.queries.get(accountId, manager);
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
