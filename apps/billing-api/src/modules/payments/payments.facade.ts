import type { BalanceFacts, PaymentFacts, RecordedBalanceFacts, RefundLine } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource, In, type EntityManager } from 'typeorm';
import { sql, type Sql } from '../../platform/database/row-sql.js';
import type { StripeEventContext, StripeEventOutcome } from '../webhooks/contracts/stripe-event-handler.js';
import type {
  LockedPaymentRef,
  PaymentStatusChangeView,
  PaymentView,
  SavedPaymentMethodView,
} from './contracts/payment.view.js';
import { PaymentMethodOrmEntity } from './persistence/payment-method.orm-entity.js';
import { PaymentStatusHistoryOrmEntity } from './persistence/payment-status-history.orm-entity.js';
import { PaymentOrmEntity } from './persistence/payment.orm-entity.js';
import { toPaymentView, toSavedPaymentMethodView, toStatusChangeView } from './persistence/payment.mapper.js';
import { PaymentMirror } from './webhooks/payment-mirror.js';
import { PaymentQueries } from './queries/payment.queries.js';
import { transformStripePaymentIntent } from './stripe/transform-stripe-payment-intent.js';

/** A payment as reconciliation compares it: its facts, its account, and the money it records. */
export interface MirroredPaymentFacts extends PaymentFacts {
  accountId: string;
  /** The captured amount with the fee and net recorded from its charge's balance transaction. */
  recorded: RecordedBalanceFacts;
}

/** What other modules may ask of payments: reads, and the mirror steps refunds and checkout need. */
@Injectable()
export class PaymentsFacade {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly mirror: PaymentMirror,
    private readonly queries: PaymentQueries,
  ) {}

  async getPayment(paymentId: string, manager: EntityManager = this.db.manager): Promise<PaymentView | null> {
    const row = await manager.getRepository(PaymentOrmEntity).findOne({ where: { id: paymentId } });
    return row ? toPaymentView(row) : null;
  }

  async findByPaymentIntent(
    stripePaymentIntentId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<PaymentView | null> {
    const row = await manager.getRepository(PaymentOrmEntity).findOne({ where: { stripePaymentIntentId } });
    return row ? toPaymentView(row) : null;
  }

  /** Oldest first (R-PAY-6). */
  async statusHistory(
    paymentId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<PaymentStatusChangeView[]> {
    const rows = await manager
      .getRepository(PaymentStatusHistoryOrmEntity)
      .find({ where: { paymentId }, order: { id: 'ASC' } });
    return rows.map(toStatusChangeView);
  }

  /**
   * The brand and last 4 of an attached payment method of the account, as a SQL expression for a read
   * that another module composes into ONE statement with its own (the owner's `GET /v1/subscription`,
   * measured by `npm run bench:subscriptions`): a jsonb object `{ brand, last4 }`, null when the method
   * (`stripePaymentMethodId`, an expression of that statement) is not attached to the account.
   */
  cardSummarySql(accountId: Sql, stripePaymentMethodId: Sql): Sql {
    return sql`(SELECT jsonb_build_object('brand', pm.card_brand, 'last4', pm.card_last4)
                FROM payment_methods pm
               WHERE pm.account_id = ${accountId} AND pm.status = 'attached'
                 AND pm.stripe_payment_method_id = ${stripePaymentMethodId}
               LIMIT 1)`;
  }

  /** The account's attached payment methods, newest first (R-PAY-2). */
  async listPaymentMethods(
    accountId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<SavedPaymentMethodView[]> {
    const rows = await manager.getRepository(PaymentMethodOrmEntity).find({
      where: { accountId, status: 'attached' },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    return rows.map(toSavedPaymentMethodView);
  }

  /**
   * Locks a payment (FOR UPDATE in the caller's transaction) for a refund issued through the API: the
   * lock serialises refunds of one payment so their total can never exceed what was captured (R-REF-2).
   */
  async lockForApiRefund(paymentId: string, manager: EntityManager): Promise<PaymentView | null> {
    const row = await manager
      .getRepository(PaymentOrmEntity)
      .findOne({ where: { id: paymentId }, lock: { mode: 'pessimistic_write' } });
    return row ? toPaymentView(row) : null;
  }

  /** Locks (mirroring it first when needed) the payment of a PaymentIntent, for a refund event. */
  lockForRefund(stripePaymentIntentId: string, ctx: StripeEventContext): Promise<LockedPaymentRef | null> {
    return this.mirror.lockForRefund(stripePaymentIntentId, ctx);
  }

  /** Records a payment's refunds and moves its status through the domain; true when something changed. */
  applyRefunds(paymentId: string, refunds: readonly RefundLine[], ctx: StripeEventContext): Promise<boolean> {
    return this.mirror.applyRefunds(paymentId, refunds, ctx);
  }

  /**
   * Mirrors the PaymentIntent of a completed payment-mode Checkout Session under the session's account
   * (the customer may have been created by Checkout and not be linked yet). Re-reads the PaymentIntent.
   */
  async mirrorCheckoutPayment(
    stripePaymentIntentId: string,
    link: { accountId: string; checkoutSessionId: string },
    ctx: StripeEventContext,
  ): Promise<StripeEventOutcome> {
    const fresh = await ctx.refetch(stripePaymentIntentId);
    if (!fresh) return 'ignored';
    return this.mirror.applyPaymentIntent(
      transformStripePaymentIntent(fresh as unknown as Stripe.PaymentIntent),
      ctx,
      link,
    );
  }

  /**
   * A Stripe PaymentIntent as reconciliation compares it: the payment status it maps to, its amount, and
   * what its latest charge refunded (the charge must be expanded: `expand: ['data.latest_charge']`).
   */
  factsFromStripe(pi: Stripe.PaymentIntent): PaymentFacts {
    const values = transformStripePaymentIntent(pi);
    const charge =
      typeof pi.latest_charge === 'object' && pi.latest_charge !== null ? pi.latest_charge : null;
    return {
      stripeId: values.stripePaymentIntentId,
      status: values.status,
      currency: values.currency,
      amount: values.amount,
      amountRefunded: charge?.amount_refunded ?? 0,
    };
  }

  /**
   * The balance transaction of a PaymentIntent's latest charge, when the caller expanded
   * `latest_charge.balance_transaction`; null otherwise (or before capture).
   */
  balanceFromStripe(pi: Stripe.PaymentIntent): BalanceFacts | null {
    return transformStripePaymentIntent(pi).balance;
  }

  /** The payments of these PaymentIntents. */
  async mirroredFacts(
    stripePaymentIntentIds: readonly string[],
    manager: EntityManager = this.db.manager,
  ): Promise<MirroredPaymentFacts[]> {
    if (stripePaymentIntentIds.length === 0) return [];
    const rows = await manager
      .getRepository(PaymentOrmEntity)
      .find({ where: { stripePaymentIntentId: In([...stripePaymentIntentIds]) } });
    return rows.map(paymentFactsOf);
  }

  /**
   * One keyset page (by PaymentIntent id) of the payments whose PaymentIntent Stripe created in [from, to)
   * and that the reconciliation run `unlistedBy` did not list at Stripe.
   */
  async mirroredFactsPage(
    window: { from: Date; to: Date },
    after: string | null,
    limit: number,
    unlistedBy: string,
    manager: EntityManager = this.db.manager,
  ): Promise<MirroredPaymentFacts[]> {
    const query = manager
      .getRepository(PaymentOrmEntity)
      .createQueryBuilder('p')
      .where('p.stripeCreatedAt >= :from AND p.stripeCreatedAt < :to', window)
      .andWhere('p.stripePaymentIntentId IS NOT NULL')
      // Only the mirrors the run's Stripe pass did not list (reconciliation_seen): a few, not every one.
      .andWhere(
        `NOT EXISTS (SELECT 1 FROM reconciliation_seen r WHERE r.run_id = :run
           AND r.object_type = 'payment' AND r.stripe_id = p.stripe_payment_intent_id)`,
        { run: unlistedBy },
      )
      .orderBy('p.stripePaymentIntentId', 'ASC')
      .limit(limit);
    if (after !== null) query.andWhere('p.stripePaymentIntentId > :after', { after });
    return (await query.getMany()).map(paymentFactsOf);
  }
}

function paymentFactsOf(row: PaymentOrmEntity): MirroredPaymentFacts {
  return {
    stripeId: row.stripePaymentIntentId ?? '',
    accountId: row.accountId,
    status: row.status,
    currency: row.currency,
    amount: row.amount,
    amountRefunded: row.amountRefunded,
    recorded: { currency: row.currency, amount: row.amountReceived, fee: row.fee, net: row.net },
  };
}
