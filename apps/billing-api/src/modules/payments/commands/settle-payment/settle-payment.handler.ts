import type { PaymentStatus } from '@billing/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { PaymentOrmEntity } from '../../persistence/payment.orm-entity.js';
import { transformStripePaymentIntent } from '../../stripe/transform-stripe-payment-intent.js';
import { CreatePaymentHandler } from '../create-payment/create-payment.handler.js';

/**
 * How long after a payment's creation repeating its PaymentIntent create is surely safe: Stripe keeps
 * idempotency keys for at least 24 hours; an hour is kept in hand for clocks and a slow janitor.
 */
export const STRIPE_KEY_SAFE_MS = 23 * 60 * 60 * 1000;

/** How many of a customer's PaymentIntents the janitor looks through for one payment's. */
const FIND_INTENT_LIMIT = 2000;

/**
 * Settles the payments whose outcome is not known (the janitor's use case, R-PAY-1): a lost answer is
 * re-read from Stripe or asked again by the payment's own idempotent create (CreatePaymentHandler), so
 * a payment is never charged twice.
 */
@Injectable()
export class SettlePaymentHandler {
  private readonly logger = new Logger('Payments');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly create: CreatePaymentHandler,
  ) {}

  /**
   * Settles a payment whose outcome is unknown (or that stayed pending): re-reads its PaymentIntent when
   * its id is known, else repeats the create by the same idempotent path. Returns the status after.
   *
   * Stripe keeps an idempotency key for at least 24 hours, no longer: past {@link STRIPE_KEY_SAFE_MS}
   * a repeated create could make a second PaymentIntent when the first request did reach Stripe. So
   * an older payment without a known PaymentIntent is looked up among its customer's PaymentIntents by
   * `metadata.payment_id`; found, it is applied like a re-read; not found, Stripe never charged it, and
   * the payment is canceled rather than charged a day or more after it was asked for.
   */
  async execute(paymentId: string): Promise<PaymentStatus> {
    const row = await this.db.getRepository(PaymentOrmEntity).findOneOrFail({ where: { id: paymentId } });
    if (row.status !== 'unknown' && row.status !== 'pending') return row.status;
    const keyMayBeGone = this.clock.now().getTime() - row.createdAt.getTime() >= STRIPE_KEY_SAFE_MS;
    const intentId = row.stripePaymentIntentId;
    const pi = intentId
      ? await this.gateway.call('payment.retrieve', (stripe) => stripe.paymentIntents.retrieve(intentId))
      : keyMayBeGone
        ? await this.findIntentOf(row)
        : null;
    if (pi === 'undecided') {
      // It cannot be told whether Stripe made a PaymentIntent: neither charge nor cancel; an operator looks.
      this.logger.error({
        msg: 'payment left unknown: its PaymentIntent cannot be looked up',
        alert: 'payment_unsettled',
        paymentId,
        createdAt: row.createdAt.toISOString(),
      });
      return row.status;
    }
    if (pi) {
      const values = transformStripePaymentIntent(pi);
      return (
        await this.create.applyAnswer(paymentId, {
          ...values,
          stripePaymentIntentId: pi.id,
          stripeCreated: pi.created,
        })
      ).status;
    }
    if (keyMayBeGone) {
      // Conditioned on the row as read: a webhook that linked a PaymentIntent meanwhile keeps its state.
      const payment = await this.create.applyAnswer(paymentId, { status: 'canceled' }, row);
      if (payment.status === 'canceled') {
        this.logger.warn({
          msg: 'payment canceled: Stripe has no PaymentIntent for it and its idempotency key may have expired',
          alert: 'payment_abandoned',
          paymentId,
          createdAt: row.createdAt.toISOString(),
        });
      }
      return payment.status;
    }
    try {
      return (await this.create.attempt(paymentId)).payment.status;
    } catch (error) {
      // A decline replayed from Stripe is a result: the payment is now failed.
      if (error instanceof ApiError) return 'failed';
      throw error;
    }
  }

  /**
   * The PaymentIntent Stripe made for this payment, found among its customer's since shortly before the
   * payment was created (newest first; a list, unlike search, is never behind); null when there is none;
   * `undecided` without a customer to look under, or past {@link FIND_INTENT_LIMIT} of them.
   */
  private async findIntentOf(row: PaymentOrmEntity): Promise<Stripe.PaymentIntent | null | 'undecided'> {
    const customer = row.stripeCustomerId;
    if (!customer) return 'undecided';
    const since = Math.floor(row.createdAt.getTime() / 1000) - 300;
    return this.gateway.call('payment.find', async (stripe) => {
      let seen = 0;
      for await (const pi of stripe.paymentIntents.list({ customer, created: { gte: since }, limit: 100 })) {
        if (pi.metadata?.payment_id === row.id) return pi;
        if (++seen >= FIND_INTENT_LIMIT) return 'undecided';
      }
      return null;
    });
  }
}
