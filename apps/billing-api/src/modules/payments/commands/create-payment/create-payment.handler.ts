import {
  checkChargeAmount,
  isCaptured,
  parseMoney,
  transitionPayment,
  type PaymentStatus,
  type ReservedPaymentMetadataKey,
} from '@billing/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { IdempotencyClaims } from '../../../../platform/idempotency/idempotency-claim.js';
import { recordBalance, type BalanceValues } from '../../../../platform/stripe/balance-transaction.js';
import { STRIPE_ERROR_CODES, StripeCallError } from '../../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { NO_BALANCE, NO_CARD_DETAILS, PaymentOrmEntity } from '../../persistence/payment.orm-entity.js';
import { PaymentWriter, type PaymentChange } from '../../persistence/payment-writer.js';
import { paymentSnapshot } from '../../persistence/payment-writes.js';
import type { NextActionView, PaymentView } from '../../contracts/payment.view.js';
import { toPaymentView } from '../../persistence/payment.mapper.js';
import { attachedMethodWhere } from '../../queries/payment-method.queries.js';
import {
  paymentInputForStatus,
  toNextAction,
  transformStripePaymentIntent,
} from '../../stripe/transform-stripe-payment-intent.js';

export interface CreatePaymentCommand {
  accountId: string;
  amount: number;
  currency: string;
  paymentMethodId: string;
  description?: string | undefined;
  orderReference?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

const methodNotFound = (): ApiError =>
  new ApiError('not_found', 'The payment method was not found.', { param: 'paymentMethodId' });

/** The payment, what a 3-D Secure challenge needs, and whether its outcome is still unknown (answered 202). */
export interface CreatePaymentResult {
  payment: PaymentView;
  /** Present while the payment requires action. */
  nextAction: NextActionView | null;
  outcomeUnknown: boolean;
}

/**
 * Creates and confirms a one-time payment (R-PAY-1/5/6). Our row is written first (pending, origin
 * `api`), so a crash after Stripe acted still leaves a row the webhook (`metadata.payment_id`) and the
 * janitor can settle. The PaymentIntent's idempotency key derives from our payment id: any retry of
 * this payment, by the SDK or the janitor, can never charge twice. A decline is a result (`failed`,
 * 402); no answer from Stripe is `unknown` (202), never `failed`.
 */
@Injectable()
export class CreatePaymentHandler {
  private readonly logger = new Logger('Payments');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly accounts: AccountsFacade,
    private readonly writer: PaymentWriter,
  ) {}

  async execute(command: CreatePaymentCommand): Promise<CreatePaymentResult> {
    const parsed = parseMoney(command.amount, command.currency);
    if (!parsed.ok) {
      throw ApiError.fromRejection(
        parsed.error,
        parsed.error.code === 'unsupported_currency' ? 'currency' : 'amount',
      );
    }
    // Stripe's per-currency limits and the configured cap, before anything is written or sent.
    const checked = checkChargeAmount(parsed.value, this.config.payments.maxAmount);
    if (!checked.ok) throw ApiError.fromRejection(checked.error, 'amount');
    const amount = checked.value;
    const where = attachedMethodWhere(command.accountId, command.paymentMethodId);
    if (!where) throw methodNotFound();
    // The method's columns are filled in from its row, read by the statement that writes the payment.
    const row = pendingApiPayment({
      accountId: command.accountId,
      amountMinor: amount.amountMinor,
      currency: amount.currency,
      description: command.description ?? null,
      orderReference: command.orderReference ?? null,
      metadata: { ...(command.metadata ?? {}) },
      now: this.clock.now(),
    });
    // A saved method is attached to the account's customer, which the PaymentIntent must name: its row
    // says which. A method mirrored without it falls back to the account's customer (created at Stripe
    // when the account has none yet), and the statement runs again with it.
    let customer: string | null = null;
    const claim = IdempotencyClaims.current() ?? null;
    let found = await this.writer.insertWithMethod(this.db.manager, row, where, customer, claim);
    if (found && !found.claimHeld) {
      // This request's Idempotency-Key was taken over by a retry meanwhile: that one runs, not this one.
      throw new ApiError(
        'idempotency_key_in_use',
        'A retry with this Idempotency-Key took the request over; its answer is the one to use.',
        { param: 'Idempotency-Key' },
      );
    }
    if (found && !found.inserted) {
      customer = await this.accounts.ensureStripeCustomer(command.accountId);
      found = await this.writer.insertWithMethod(this.db.manager, row, where, customer, claim);
    }
    if (!found?.inserted) throw methodNotFound();
    Object.assign(row, {
      stripeCustomerId: customer ?? found.stripe_customer_id,
      stripePaymentMethodId: found.stripe_payment_method_id,
      paymentMethodType: found.type,
      cardBrand: found.card_brand,
      cardLast4: found.card_last4,
      cardExpMonth: found.card_exp_month,
      cardExpYear: found.card_exp_year,
      cardFunding: found.card_funding,
    } satisfies Partial<PaymentOrmEntity>);
    return this.attempt(row.id, row);
  }

  /**
   * Creates+confirms the PaymentIntent of a payment by its idempotent path and applies the answer. Also
   * the janitor's way to settle an `unknown` or stale `pending` payment: the same key replays Stripe's
   * first answer, or creates the PaymentIntent when Stripe never saw the first request.
   */
  async attempt(paymentId: string, loaded?: PaymentOrmEntity): Promise<CreatePaymentResult> {
    const row =
      loaded ?? (await this.db.getRepository(PaymentOrmEntity).findOneOrFail({ where: { id: paymentId } }));
    let pi: Stripe.PaymentIntent;
    try {
      pi = await this.gateway.call('payment.create', (stripe) =>
        stripe.paymentIntents.create(
          {
            amount: row.amount,
            currency: row.currency,
            customer: row.stripeCustomerId ?? undefined,
            payment_method: row.stripePaymentMethodId ?? undefined,
            confirm: true,
            // The charge's fee and net come with the answer (R-REC): recorded with the capture, so a card
            // payment needs no later `payments.record-balance` job and Stripe call (bench:payments).
            expand: ['latest_charge.balance_transaction'],
            ...(row.description ? { description: row.description } : {}),
            metadata: {
              ...row.metadata,
              ...({
                payment_id: row.id,
                account_id: row.accountId,
                ...(row.orderReference ? { order_reference: row.orderReference } : {}),
              } satisfies Partial<Record<ReservedPaymentMetadataKey, string>>),
            },
          },
          { idempotencyKey: StripeGateway.idempotencyKey('payment.create', row.id) },
        ),
      );
    } catch (error) {
      if (!(error instanceof StripeCallError)) throw error;
      if (error.outcomeUnknown || error.kind === 'rate_limited' || error.kind === 'idempotency') {
        // The money may have moved, Stripe refused to look, or an earlier attempt with our key is still
        // in flight: settled later (janitor, webhooks), never failed.
        const payment = await this.applyAnswer(paymentId, { status: 'unknown' }, loaded);
        return { payment, nextAction: null, outcomeUnknown: true };
      }
      await this.applyAnswer(
        paymentId,
        {
          status: 'failed',
          failureCode: error.code,
          declineCode: error.detail.declineCode ?? null,
          failureMessage: error.friendlyMessage,
        },
        loaded,
      );
      const mapped = ApiError.fromStripe(error);
      throw new ApiError(mapped.code, mapped.message, {
        details: { ...(mapped.options.details ?? {}), payment_id: paymentId },
        executed: true,
      });
    }
    const values = transformStripePaymentIntent(pi);
    const payment = await this.applyAnswer(
      paymentId,
      {
        status: values.status,
        stripePaymentIntentId: pi.id,
        stripeCreated: pi.created,
        amountReceived: values.amountReceived,
        latestChargeId: values.latestChargeId,
        failureCode: values.failureCode,
        declineCode: values.declineCode,
        failureMessage: values.failureMessage,
        balance: values.balance,
      },
      loaded,
    );
    const nextAction = toNextAction(pi);
    if (payment.status === 'failed') {
      throw paymentFailedError(paymentId, values.failureCode ?? null, values.declineCode ?? null);
    }
    return {
      payment,
      nextAction: payment.status === 'requires_action' ? nextAction : null,
      outcomeUnknown: payment.status === 'unknown',
    };
  }

  /**
   * Applies Stripe's answer through the payment machine, written by the payments' one writer
   * (`PaymentWriter`). With the row as this request wrote it (`expected`), the change, its history line
   * and its audit record are one conditional statement (`version` unchanged). When another writer got
   * there first (a webhook, the janitor): if it moved the status, it may have applied a newer state than
   * this answer (a 3-D Secure challenge completed in between, or the same key's first answer replayed
   * to a retry), so when the answer would still move the row, the PaymentIntent as Stripe has it now
   * decides (R-SM-3), and otherwise, or without one to re-read, the row keeps what the webhooks gave it;
   * if it changed other fields only (a charge's details), the answer is applied to the row as it is
   * now, under its lock. Without `expected` (the janitor, whose answer is fresh), the row is locked and
   * the answer applied to what it holds now.
   */
  async applyAnswer(
    paymentId: string,
    answer: StripeAnswer,
    expected?: PaymentOrmEntity,
  ): Promise<PaymentView> {
    let toApply = answer;
    if (expected) {
      const step = this.decide(expected, answer);
      if ((await this.writer.write(this.db.manager, step)) === 'written') {
        return toPaymentView(step.after);
      }
      const now = await this.db.getRepository(PaymentOrmEntity).findOneByOrFail({ id: paymentId });
      if (now.status !== expected.status) {
        // Only an answer that would move the row as it is now needs Stripe's word on it.
        const fresh = this.decide(now, answer).steps.length > 0 ? await this.reread(answer) : null;
        if (!fresh) return toPaymentView(now);
        toApply = fresh;
      }
    }
    return this.db.transaction(async (manager) => {
      const row = await manager
        .getRepository(PaymentOrmEntity)
        .findOneOrFail({ where: { id: paymentId }, lock: { mode: 'pessimistic_write' } });
      const step = this.decide(row, toApply);
      const written = await this.writer.write(manager, step);
      if (written === 'conflict') throw new Error(`payment ${paymentId} changed under its row lock`);
      return toPaymentView(written === 'written' ? step.after : row);
    });
  }

  /** The PaymentIntent of an answer as Stripe has it now; null without one, or when Stripe does not answer. */
  private async reread(answer: StripeAnswer): Promise<StripeAnswer | null> {
    const intentId = answer.stripePaymentIntentId;
    if (!intentId) return null;
    try {
      const pi = await this.gateway.call('payment.retrieve', (stripe) =>
        stripe.paymentIntents.retrieve(intentId),
      );
      return { ...transformStripePaymentIntent(pi), stripePaymentIntentId: pi.id, stripeCreated: pi.created };
    } catch (error) {
      if (error instanceof StripeCallError) return null;
      throw error;
    }
  }

  /** The row after Stripe's answer (a copy), and the machine's move, if it made one. */
  private decide(current: PaymentOrmEntity, answer: StripeAnswer): PaymentChange {
    const row = paymentSnapshot(current);
    const before = row.status;
    if (answer.stripePaymentIntentId && row.stripePaymentIntentId === null) {
      row.stripePaymentIntentId = answer.stripePaymentIntentId;
    }
    // The answer is the PaymentIntent's state after its creation second: an event of that second then
    // goes through the mirror's tie rule (applied only when it would change something, after a re-read),
    // and the usual payment_intent.succeeded that confirms this answer writes nothing.
    if (answer.stripeCreated !== undefined) {
      row.lastEventCreated = Math.max(row.lastEventCreated ?? 0, answer.stripeCreated);
      row.stripeCreatedAt ??= new Date(answer.stripeCreated * 1000);
    }
    const input = paymentInputForStatus(answer.status, answer.declineCode ?? null);
    const moved = input ? transitionPayment(row.status, input, this.clock.now()) : null;
    // Not ok: a webhook already moved the payment past this answer (e.g. refunded); keep its state.
    if (moved?.ok && moved.value.changed) {
      row.status = moved.value.status;
      if (answer.amountReceived !== undefined)
        row.amountReceived = Math.max(row.amountReceived, answer.amountReceived);
      if (answer.latestChargeId) row.latestChargeId = answer.latestChargeId;
      if (row.status === 'failed') {
        row.failureCode = answer.failureCode ?? null;
        row.declineCode = answer.declineCode ?? null;
        row.failureMessage = answer.failureMessage ?? null;
      }
      if (row.status === 'succeeded' && row.succeededAt === null) row.succeededAt = this.clock.now();
    }
    // The fee and net of the charge the answer captured, when the row has none yet for that charge.
    if (
      answer.balance &&
      isCaptured(row.status) &&
      row.fee === null &&
      answer.latestChargeId &&
      row.latestChargeId === answer.latestChargeId
    ) {
      recordBalance(row, answer.balance);
    }
    const steps =
      row.status === before
        ? []
        : [{ from: before, to: row.status, declineCode: row.status === 'failed' ? row.declineCode : null }];
    return { before: current, after: row, steps };
  }
}

/** What Stripe (or its silence) said about a payment. */
export interface StripeAnswer {
  status: PaymentStatus;
  stripePaymentIntentId?: string;
  /** The PaymentIntent's `created` (Unix seconds), when Stripe answered with it. */
  stripeCreated?: number;
  amountReceived?: number;
  latestChargeId?: string | null;
  failureCode?: string | null;
  declineCode?: string | null;
  failureMessage?: string | null;
  /** The latest charge's balance transaction, when the answer carried it expanded. */
  balance?: BalanceValues | null;
}

/**
 * The answer to a payment the card declined (402, its id in `details.payment_id`): an executed outcome,
 * which its Idempotency-Key keeps and replays.
 */
export function paymentFailedError(
  paymentId: string,
  failureCode: string | null,
  declineCode: string | null,
): ApiError {
  const code = STRIPE_ERROR_CODES.find((c) => c === declineCode || c === failureCode);
  const failure = new StripeCallError('payment.create', 'card', code ?? 'card_declined', {
    ...(declineCode ? { declineCode } : {}),
  });
  return new ApiError(failure.code, failure.friendlyMessage, {
    details: { payment_id: paymentId, ...(declineCode ? { decline_code: declineCode } : {}) },
    executed: true,
  });
}

/**
 * A payment as the API writes it before calling Stripe: pending, origin `api`, a new id, no
 * PaymentIntent or card yet (the writer's insert copies the method's columns).
 */
export function pendingApiPayment(input: {
  accountId: string;
  amountMinor: number;
  currency: string;
  description: string | null;
  orderReference: string | null;
  metadata: Record<string, string>;
  now: Date;
}): PaymentOrmEntity {
  return {
    id: randomUUID(),
    accountId: input.accountId,
    stripePaymentIntentId: null,
    stripeCustomerId: null,
    amount: input.amountMinor,
    currency: input.currency.toLowerCase(),
    status: 'pending',
    amountReceived: 0,
    amountRefunded: 0,
    description: input.description,
    orderReference: input.orderReference,
    metadata: input.metadata,
    stripePaymentMethodId: null,
    ...NO_CARD_DETAILS,
    ...NO_BALANCE,
    failureCode: null,
    declineCode: null,
    failureMessage: null,
    latestChargeId: null,
    checkoutSessionId: null,
    origin: 'api',
    succeededAt: null,
    stripeCreatedAt: null,
    lastEventCreated: null,
    version: 1,
    createdAt: input.now,
    updatedAt: input.now,
  };
}
