import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { uuidOrNull } from '../../../platform/validation/uuid.js';

/** What resolving needs from a webhook handler: its transaction, and a way to re-read a Stripe object. */
export interface StripeLookupContext {
  manager: EntityManager;
  refetch(objectId: string): Promise<Record<string, unknown> | null>;
}

/** Which account a Stripe customer belongs to, read inside the caller's (webhook) transaction. */
@Injectable()
export class StripeCustomerAccountQueries {
  /** The account linked to this Stripe customer (`accounts.stripe_customer_id`), or null. */
  async linkedAccount(manager: EntityManager, stripeCustomerId: string | null): Promise<string | null> {
    if (!stripeCustomerId) return null;
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM accounts WHERE stripe_customer_id = $1 LIMIT 1`,
      [stripeCustomerId],
    );
    return rows[0]?.id ?? null;
  }

  /** True when an account with this id exists (for ids the app put in Stripe metadata or references). */
  async exists(manager: EntityManager, accountId: string | null): Promise<boolean> {
    if (!uuidOrNull(accountId)) return false;
    const rows: unknown[] = await manager.query(`SELECT 1 FROM accounts WHERE id = $1`, [accountId]);
    return rows.length > 0;
  }

  /**
   * An account the app named in metadata, accepted only when it exists and has no other customer (so a
   * copied metadata value cannot file one customer's money under another account).
   */
  private async claimedAccount(
    manager: EntityManager,
    accountId: string | null,
    stripeCustomerId: string | null,
  ): Promise<string | null> {
    if (!accountId) return null;
    const rows: { id: string; stripe_customer_id: string | null }[] = await manager.query(
      `SELECT id, stripe_customer_id FROM accounts WHERE id = $1`,
      [accountId],
    );
    const row = rows[0];
    if (!row) return null;
    return row.stripe_customer_id === null || row.stripe_customer_id === stripeCustomerId ? row.id : null;
  }

  /**
   * The account of a Stripe object's customer: the linked account; else the account in the object's
   * `metadata.account_id`; else the one in the customer's own metadata, re-read from Stripe (the
   * `customer.created` event that links it may not have been processed yet: delivery order is not
   * trusted). Null for a customer of no account: the caller answers `ignored`.
   */
  async resolve(
    ctx: StripeLookupContext,
    stripeCustomerId: string | null,
    metadataAccountId: string | null = null,
  ): Promise<string | null> {
    const linked = await this.linkedAccount(ctx.manager, stripeCustomerId);
    if (linked) return linked;
    const claimed = await this.claimedAccount(ctx.manager, metadataAccountId, stripeCustomerId);
    if (claimed || !stripeCustomerId) return claimed;
    const customer = await ctx.refetch(stripeCustomerId);
    const metadata = customer?.metadata as Record<string, unknown> | undefined;
    if (!customer || customer.deleted === true) return null;
    return this.claimedAccount(ctx.manager, uuidOrNull(metadata?.account_id), stripeCustomerId);
  }
}
