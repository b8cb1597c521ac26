import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { DomainEvents } from '../../../platform/events/domain-events.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import { accountDefaultPaymentMethodChanged } from '../contracts/account.events.js';
import {
  HandlesStripeEvents,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../webhooks/contracts/stripe-event-handler.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The customer fields the account mirrors. */
export interface CustomerMirror {
  /** Null when the object does not say (a deleted customer): the mirror keeps what it had. */
  balance: number | null;
  defaultPaymentMethodId: string | null;
  email: string | null;
  delinquent: boolean;
  deleted: boolean;
}

interface LockedAccount {
  id: string;
  stripe_customer_id: string | null;
  stripe_balance: string;
  stripe_default_payment_method_id: string | null;
  stripe_email: string | null;
  stripe_delinquent: boolean;
  stripe_customer_deleted: boolean;
  stripe_customer_synced_at: Date | null;
}

/** Reads the mirrored fields from a Stripe customer object (live or deleted). */
export function customerMirrorOf(customer: Record<string, unknown>): CustomerMirror {
  const settings = customer.invoice_settings as { default_payment_method?: unknown } | null | undefined;
  const pm = settings?.default_payment_method;
  const balance = customer.balance;
  return {
    balance: typeof balance === 'number' && Number.isSafeInteger(balance) ? balance : null,
    defaultPaymentMethodId:
      typeof pm === 'string' ? pm : pm && typeof pm === 'object' ? String((pm as { id: unknown }).id) : null,
    email: typeof customer.email === 'string' ? customer.email : null,
    delinquent: customer.delinquent === true,
    deleted: customer.deleted === true,
  };
}

/**
 * Mirrors the Stripe customer onto its account (`customer.created` / `updated` / `deleted`): balance
 * (minor units), default payment method, email, delinquency, deletion. The account is found by
 * `accounts.stripe_customer_id`, else by `metadata.account_id` (which links it when the account has no
 * customer yet). Ordering (R-SM-3): the `created` of the last applied event is kept per account; an
 * older event is skipped, one from the same second re-reads the customer from Stripe. A balance change
 * or a deletion writes an audit record; a change of the default payment method publishes
 * `account.default_payment_method_changed`. Customers of no account are `ignored`.
 */
@Injectable()
export class CustomerMirrorHandler {
  private readonly logger = new Logger('CustomerMirror');

  constructor(
    private readonly audit: AuditFacade,
    private readonly clock: Clock,
    private readonly events: DomainEvents,
  ) {}

  @HandlesStripeEvents('customer.created', 'customer.updated', 'customer.deleted')
  async handle(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const customer = event.data.object as unknown as Record<string, unknown> & { id: string };
    const account = await this.lockAccount(ctx.manager, customer);
    if (!account) return 'ignored';

    const eventAt = new Date(ctx.event.created * 1000);
    const lastAt = account.stripe_customer_synced_at;
    if (lastAt && eventAt.getTime() < lastAt.getTime()) return 'skipped_stale';

    let next = customerMirrorOf(customer);
    if (event.type === 'customer.deleted') next = { ...next, deleted: true };
    if (lastAt && eventAt.getTime() === lastAt.getTime()) {
      // Same second as what was applied: delivery order cannot tell which is newer; Stripe can.
      const current = await ctx.refetch(customer.id);
      next = current ? customerMirrorOf(current) : { ...next, deleted: true };
    }

    const before = mirrorOfRow(account);
    const balance = next.balance ?? before.balance;
    await ctx.manager.query(
      `UPDATE accounts
          SET stripe_customer_id = $2, stripe_balance = $3, stripe_default_payment_method_id = $4,
              stripe_email = $5, stripe_delinquent = $6, stripe_customer_deleted = $7,
              stripe_customer_synced_at = $8, updated_at = $9
        WHERE id = $1`,
      [
        account.id,
        customer.id,
        String(balance),
        next.defaultPaymentMethodId,
        next.email,
        next.delinquent,
        next.deleted,
        eventAt,
        this.clock.now(),
      ],
    );

    const actor = { type: 'stripe_event' as const, id: ctx.event.id };
    if (account.stripe_customer_id === null) {
      await this.audit.record(
        {
          accountId: account.id,
          action: 'account.stripe_customer_linked',
          entityType: 'account',
          entityId: account.id,
          before: { stripeCustomerId: null },
          after: { stripeCustomerId: customer.id },
          reason: `${event.type} with metadata.account_id`,
          actor,
        },
        ctx.manager,
      );
    }
    if (before.balance !== balance) {
      await this.audit.record(
        {
          accountId: account.id,
          action: 'account.stripe_balance_changed',
          entityType: 'account',
          entityId: account.id,
          before: { balance: before.balance },
          after: { balance },
          reason: event.type,
          actor,
        },
        ctx.manager,
      );
    }
    if (!before.deleted && next.deleted) {
      await this.audit.record(
        {
          accountId: account.id,
          action: 'account.stripe_customer_deleted',
          entityType: 'account',
          entityId: account.id,
          before: { stripeCustomerId: customer.id, deleted: false },
          after: { stripeCustomerId: customer.id, deleted: true },
          reason: event.type,
          actor,
        },
        ctx.manager,
      );
    }
    if (before.defaultPaymentMethodId !== next.defaultPaymentMethodId) {
      await this.events.publish(ctx.manager, [
        accountDefaultPaymentMethodChanged({
          accountId: account.id,
          previousPaymentMethodId: before.defaultPaymentMethodId,
          paymentMethodId: next.defaultPaymentMethodId,
          occurredAt: eventAt.toISOString(),
        }),
      ]);
    }
    return 'applied';
  }

  /**
   * The linked account, locked for this transaction; null when the customer belongs to no account.
   * An account already linked to the customer is locked `FOR NO KEY UPDATE`, the lock its UPDATE takes
   * (the key stays as it is): it keeps two writers of the account apart but does not block the
   * foreign-key checks (`KEY SHARE`) of rows inserted for the account meanwhile. `FOR UPDATE` did, and two
   * webhook batches, each holding one account this way and inserting a payment method or an invoice of
   * the other's, deadlocked (stripe-mirrors-concurrency).
   */
  private async lockAccount(
    manager: EntityManager,
    customer: Record<string, unknown> & { id: string },
  ): Promise<LockedAccount | null> {
    const columns = `id, stripe_customer_id, stripe_balance::text AS stripe_balance,
      stripe_default_payment_method_id, stripe_email, stripe_delinquent, stripe_customer_deleted,
      stripe_customer_synced_at`;
    const byCustomer = await manager.query<LockedAccount[]>(
      `SELECT ${columns} FROM accounts WHERE stripe_customer_id = $1 FOR NO KEY UPDATE`,
      [customer.id],
    );
    if (byCustomer[0]) return byCustomer[0];
    const metadata = customer.metadata as Record<string, unknown> | null | undefined;
    const accountId = metadata?.account_id;
    if (typeof accountId !== 'string' || !UUID.test(accountId)) return null;
    // Linking sets the account's unique `stripe_customer_id`, a key: `FOR UPDATE` from the start. Taking
    // the weaker lock and upgrading it in the UPDATE waited for a concurrent foreign-key check on the
    // account, whose transaction then waited for this lock: a deadlock (stripe-mirrors-concurrency).
    const byMetadata = await manager.query<LockedAccount[]>(
      `SELECT ${columns} FROM accounts WHERE id = $1 FOR UPDATE`,
      [accountId],
    );
    const account = byMetadata[0];
    if (!account) return null;
    if (account.stripe_customer_id !== null && account.stripe_customer_id !== customer.id) {
      // The account is already linked to another customer: this one is not its mirror.
      this.logger.warn({
        msg: 'customer names an account linked to another customer; ignored',
        customerId: customer.id,
        accountId,
      });
      return null;
    }
    return account;
  }
}

function mirrorOfRow(row: LockedAccount): CustomerMirror & { balance: number } {
  return {
    balance: Number(row.stripe_balance),
    defaultPaymentMethodId: row.stripe_default_payment_method_id,
    email: row.stripe_email,
    delinquent: row.stripe_delinquent,
    deleted: row.stripe_customer_deleted,
  };
}
