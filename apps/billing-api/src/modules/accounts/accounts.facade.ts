import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { readPart, sql, type ReadPart, type Sql } from '../../platform/database/row-sql.js';
import { DropMemberHandler } from './commands/drop-member/drop-member.handler.js';
import { RecordMemberHandler } from './commands/record-member/record-member.handler.js';
import { EnsureStripeCustomerHandler } from './commands/ensure-stripe-customer/ensure-stripe-customer.handler.js';
import type { AccountView, MemberView } from './contracts/account.view.js';
import { AccountMemberOrmEntity } from './persistence/account-member.orm-entity.js';
import { toMemberView } from './persistence/account.mapper.js';
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
    private readonly recordMember: RecordMemberHandler,
    private readonly dropMember: DropMemberHandler,
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

  /**
   * The Stripe customer's balance as last mirrored from `customer.*` events (minor units of the
   * customer's currency; negative is credit that Stripe applies to the next invoices), and when it was
   * mirrored (null: no customer event seen yet, the balance is 0). Null when no such account.
   */
  async stripeCustomerBalance(
    accountId: string,
  ): Promise<{ balance: number; syncedAt: string | null } | null> {
    const rows: { balance: string; synced_at: Date | null }[] = await this.db.query(
      `SELECT stripe_balance::text AS balance, stripe_customer_synced_at AS synced_at FROM accounts WHERE id = $1`,
      [accountId],
    );
    const row = rows[0];
    if (!row) return null;
    const balance = Number(row.balance);
    if (!Number.isSafeInteger(balance)) throw new Error(`accounts.stripe_balance: ${row.balance}`);
    return { balance, syncedAt: row.synced_at ? new Date(row.synced_at).toISOString() : null };
  }

  /**
   * The account's billing facts as a SQL expression for a read that another module composes into ONE
   * statement with its own (the owner's `GET /v1/subscription`, measured by `npm run
   * bench:subscriptions`): a jsonb object `{ members, defaultPaymentMethodId, balance }` (members: how
   * many; balance: Stripe's customer balance in minor units as text, see {@link stripeCustomerBalance}),
   * null when no such account. {@link parseBillingFacts} reads it back.
   */
  billingFactsSql(accountId: Sql): Sql {
    return sql`(SELECT jsonb_build_object(
                  'members', (SELECT count(*) FROM account_members m WHERE m.account_id = a.id),
                  'defaultPaymentMethodId', a.stripe_default_payment_method_id,
                  'balance', a.stripe_balance::text)
                FROM accounts a WHERE a.id = ${accountId})`;
  }

  getAccount(accountId: string): Promise<AccountView> {
    return this.queries.get(accountId);
  }

  /**
   * The account's mail settings as a SQL expression (a jsonb object `{ name, billingEmail, locale,
   * timeZone }`, null when no such account) for the statement of another module, e.g. the mail sender's
   * claim of an outbox row: one round trip instead of a second read.
   */
  mailSettingsSql(accountId: Sql): Sql {
    return sql`(SELECT jsonb_build_object('name', a.name, 'billingEmail', a.billing_email, 'locale', a.locale,
                  'timeZone', a.time_zone) FROM accounts a WHERE a.id = ${accountId})`;
  }

  /**
   * The account's own billing flag (R-PLAN-5; the global rollout is the entitlements module's), read in
   * the caller's transaction; null when no such account.
   */
  /**
   * The account's billing flag (null when no such account), as part of the caller's statement (output
   * `accounts__billing_flag`).
   */
  billingFlagPart(accountId: string | Sql): ReadPart<boolean | null> {
    return {
      ctes: [],
      outputs: [
        sql`(SELECT billing_enabled FROM accounts WHERE id = ${accountId}::uuid) AS accounts__billing_flag`,
      ],
      read: (result) => (result.accounts__billing_flag as boolean | null | undefined) ?? null,
    };
  }

  /**
   * Sets the account's billing flag in the caller's transaction, the row locked first (`FOR NO KEY
   * UPDATE`: the key is not changed, so rows being inserted for the account are not blocked); returns the
   * flag before the change, or null when no such account (nothing written).
   */
  async setBillingFlag(
    manager: EntityManager,
    accountId: string,
    enabled: boolean,
    now: Date,
  ): Promise<boolean | null> {
    const before: { enabled: boolean }[] = await manager.query(
      `SELECT billing_enabled AS enabled FROM accounts WHERE id = $1 FOR NO KEY UPDATE`,
      [accountId],
    );
    const row = before[0];
    if (!row) return null;
    if (row.enabled !== enabled) {
      await manager.query(`UPDATE accounts SET billing_enabled = $2, updated_at = $3 WHERE id = $1`, [
        accountId,
        enabled,
        now,
      ]);
    }
    return row.enabled;
  }

  /** Every account whose own billing flag is on, read in the caller's transaction (the rollout's moves). */
  async billingFlaggedAccountIds(manager: EntityManager): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM accounts WHERE billing_enabled ORDER BY id`,
    );
    return rows.map((r) => r.id);
  }

  /** How many members (owner included) the account has, read in the caller's transaction. */
  async countMembers(accountId: string, manager: EntityManager = this.db.manager): Promise<number> {
    return readPart(manager, this.countMembersPart(accountId));
  }

  /** {@link countMembers} as part of the caller's statement (output `accounts__members`). */
  countMembersPart(accountId: string | Sql): ReadPart<number> {
    return {
      ctes: [],
      outputs: [
        sql`(SELECT count(*)::int FROM account_members WHERE account_id = ${accountId}::uuid) AS accounts__members`,
      ],
      read: (result) => (result.accounts__members as number | null | undefined) ?? 0,
    };
  }

  /** The member of the account, read in the caller's transaction; null when the user is none. */
  async member(manager: EntityManager, accountId: string, userId: string): Promise<MemberView | null> {
    const row = await manager.getRepository(AccountMemberOrmEntity).findOne({ where: { accountId, userId } });
    return row ? toMemberView(row) : null;
  }

  /**
   * Adds a member (role member) in the caller's transaction, audited, publishing `account.member_added`.
   * The caller checked the seat rule (R-PLAN-3) under its seat lock; 409 `member_already_exists`.
   */
  addMember(
    manager: EntityManager,
    input: { accountId: string; userId: string; email: string },
  ): Promise<MemberView> {
    return this.recordMember.execute(manager, input);
  }

  /**
   * Removes a member in the caller's transaction, audited, publishing `account.member_removed`; 404 for
   * no such member, 409 `owner_not_removable` for the owner.
   */
  removeMember(manager: EntityManager, input: { accountId: string; userId: string }): Promise<void> {
    return this.dropMember.execute(manager, input);
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

/** An account's billing facts as {@link AccountsFacade.billingFactsSql} reads them. */
export interface AccountBillingFacts {
  members: number;
  defaultPaymentMethodId: string | null;
  /** Stripe's customer balance in minor units (negative: credit). */
  balance: number;
}

/** The value of {@link AccountsFacade.billingFactsSql} (null: no such account). */
export function parseBillingFacts(value: unknown): AccountBillingFacts | null {
  if (value === null || value === undefined) return null;
  const facts = value as { members: number; defaultPaymentMethodId: string | null; balance: string };
  const balance = Number(facts.balance);
  if (!Number.isSafeInteger(balance)) throw new Error(`accounts.stripe_balance: ${facts.balance}`);
  return { members: Number(facts.members), defaultPaymentMethodId: facts.defaultPaymentMethodId, balance };
}
