import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { IdempotentOutcome, ResolvedOutcome } from '../../../platform/idempotency/idempotent-outcome.js';
import { StripeCallError } from '../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';
import { toPaymentDto } from './dto/payment.mapper.js';
import { toPaymentView } from '../persistence/payment.mapper.js';
import { PaymentOrmEntity } from '../persistence/payment.orm-entity.js';
import { paymentFailedError } from '../commands/create-payment/create-payment.handler.js';
import { toNextAction } from '../stripe/transform-stripe-payment-intent.js';

/**
 * The answer of `POST /v1/payments` told from its payment, for a retry whose first request wrote the
 * payment and then lost its answer (it failed, or its process died; issue 16): the payment is never
 * created twice. While its Stripe outcome is not known (`pending`, `unknown`) there is no answer yet
 * (the janitor and the webhooks settle it; the retry gets 409 `idempotency_key_in_use`). Otherwise the
 * answer the request would have given for the payment as it is now: 201 with the payment (with
 * `nextAction`, re-read from Stripe, while it requires action), or the 402 of a decline.
 */
@Injectable()
export class CreatePaymentOutcome implements IdempotentOutcome {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
  ) {}

  async resolve(paymentId: string): Promise<ResolvedOutcome | null> {
    const row = await this.db.getRepository(PaymentOrmEntity).findOneBy({ id: paymentId });
    if (!row || row.status === 'pending' || row.status === 'unknown') return null;
    if (row.status === 'failed') throw paymentFailedError(row.id, row.failureCode, row.declineCode);
    const payment = toPaymentDto(toPaymentView(row));
    const intentId = row.stripePaymentIntentId;
    if (row.status === 'requires_action' && intentId) {
      try {
        const pi = await this.gateway.call('payment.retrieve', (stripe) =>
          stripe.paymentIntents.retrieve(intentId),
        );
        const nextAction = toNextAction(pi);
        return { status: 201, body: nextAction ? { ...payment, nextAction } : payment };
      } catch (error) {
        if (error instanceof StripeCallError) return null; // asked again by the next retry
        throw error;
      }
    }
    return { status: 201, body: payment };
  }
}
