import {
  checkChargeAmount,
  parseMoney,
  transitionPayment,
  type PaymentStatus,
  type ReservedPaymentMetadataKey,
} from '@billing/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import {
  insertRowSql,
  queryRows,
  raw,
  sql,
  type Sql,
  type StatementPart,
} from '../../../../platform/database/row-sql.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { RequestContext } from '../../../../platform/context/request-context.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import {
  claimHeldSql,
  IdempotencyClaims,
  linkKeySql,
} from '../../../../platform/idempotency/idempotency-claim.js';
import { STRIPE_ERROR_CODES, StripeCallError } from '../../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import type { AuditEntryInput } from '../../../audit/contracts/audit-entry.js';
import { NO_CARD_DETAILS, PaymentOrmEntity } from '../../persistence/payment.orm-entity.js';
import { statusHistorySql, updatePaymentSql } from '../../persistence/payment-writes.js';
import { PaymentStatusPublisher } from '../../persistence/payment-status.publisher.js';
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

/** The columns of an attached payment method that a payment copies (`insertPayment`). */
interface AttachedMethodColumns {
  stripe_payment_method_id: string;
  stripe_customer_id: string | null;
  type: string;
  card_brand: string | null;
  card_last4: string | null;
  card_exp_month: number | null;
  card_exp_year: number | null;
  card_funding: string | null;
}

const METHOD_COLUMNS = raw(
  'stripe_payment_method_id, stripe_customer_id, type, card_brand, card_last4, card_exp_month, card_exp_year, card_funding',
);

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
    private readonly audit: AuditFacade,
    private readonly accounts: AccountsFacade,
    private readonly statusChange: PaymentStatusPublisher,
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
    const now = this.clock.now();
    const metadata = { ...(command.metadata ?? {}) };
    // The method's columns are filled in from its row, read by the statement that writes the payment.
    const row: PaymentOrmEntity = {
      id: randomUUID(),
      accountId: command.accountId,
      stripePaymentIntentId: null,
      stripeCustomerId: null,
      amount: amount.amountMinor,
      currency: amount.currency.toLowerCase(),
      status: 'pending',
      amountReceived: 0,
      amountRefunded: 0,
      description: command.description ?? null,
      orderReference: command.orderReference ?? null,
      metadata,
      stripePaymentMethodId: null,
      ...NO_CARD_DETAILS,
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
      createdAt: now,
      updatedAt: now,
    };
    // A saved method is attached to the account's customer, which the PaymentIntent must name: its row
    // says which. A method mirrored without it falls back to the account's customer (created at Stripe
    // when the account has none yet), and the statement runs again with it.
    let customer: string | null = null;
    let found = await this.insertPayment(row, where, customer);
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
      found = await this.insertPayment(row, where, customer);
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
   * One statement, all or nothing, and the payment's only round trip before Stripe: reads the attached
   * payment method (`where`), and when it is there writes the payment with the method's columns, its
   * first status history line and its audit record. `customer` null: the method's customer, and nothing
   * is written when the method has none (`inserted` false). Returns the method's columns, or null when
   * no such method is attached to the account.
   *
   * Under an Idempotency-Key (issue 16) the same statement links the payment to the key
   * (`linkKeySql`), and writes the payment only when it could: a retry of a request that failed or died
   * after this statement is answered from the payment (`CreatePaymentOutcome`) and never creates a
   * second one; `claimHeld` false when a retry had taken the key over (nothing written). No extra round
   * trip.
   */
  private async insertPayment(
    row: PaymentOrmEntity,
    where: Sql,
    customer: string | null,
  ): Promise<(AttachedMethodColumns & { inserted: boolean; claimHeld: boolean }) | null> {
    const manager = this.db.manager;
    const claim = IdempotencyClaims.current();
    const condition = customer === null ? 'm.stripe_customer_id IS NOT NULL' : 'true';
    const [found] = await queryRows<AttachedMethodColumns & { inserted: boolean; claimHeld: boolean }>(
      manager,
      sql`WITH m AS (SELECT ${METHOD_COLUMNS} FROM payment_methods WHERE ${where}),
        ${claim ? sql`k AS (${linkKeySql(claim, row.id, sql`EXISTS (SELECT 1 FROM m WHERE ${raw(condition)})`)}),` : sql``}
        payment AS (${insertRowSql(
          manager,
          PaymentOrmEntity,
          { ...row, stripeCustomerId: customer },
          `${claim ? 'm, k' : 'm'} WHERE ${condition}`,
          {
            ...(customer === null ? { stripeCustomerId: sql`m.stripe_customer_id` } : {}),
            stripePaymentMethodId: sql`m.stripe_payment_method_id`,
            paymentMethodType: sql`m.type`,
            cardBrand: sql`m.card_brand`,
            cardLast4: sql`m.card_last4`,
            cardExpMonth: sql`m.card_exp_month`,
            cardExpYear: sql`m.card_exp_year`,
            cardFunding: sql`m.card_funding`,
          },
        )} RETURNING id),
        history AS (${this.historySql(manager, row.id, null, 'pending', null, 'payment')}),
        audit AS (${this.audit.recordSql(
          manager,
          {
            accountId: row.accountId,
            action: 'payment.created',
            entityType: 'payment',
            entityId: row.id,
          },
          'payment, m',
          sql`${JSON.stringify({
            status: row.status,
            amount: row.amount,
            currency: row.currency,
            orderReference: row.orderReference,
          })}::jsonb || jsonb_build_object('paymentMethod', m.stripe_payment_method_id)`,
        )})
      SELECT ${METHOD_COLUMNS}, EXISTS (SELECT 1 FROM payment) AS inserted,
        ${claim ? claimHeldSql(claim) : sql`true`} AS "claimHeld" FROM m`,
    );
    return found ?? null;
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
   * Applies Stripe's answer through the payment machine. With the row as this request wrote it
   * (`expected`), the change, its history line and its audit record are one conditional statement
   * (`version` unchanged). When another writer got there first (a webhook, the janitor), it may have
   * applied a newer state than this answer (a 3-D Secure challenge completed in between, or the same
   * key's first answer replayed to a retry): when the answer would move the row as it is now, the
   * PaymentIntent as Stripe has it now decides (R-SM-3), applied to what the row holds under its lock;
   * otherwise, or without one to re-read, the row keeps what the webhooks gave it. Without `expected` (the janitor, whose answer is fresh), the row is locked and the
   * answer applied to what it holds now.
   */
  async applyAnswer(
    paymentId: string,
    answer: StripeAnswer,
    expected?: PaymentOrmEntity,
  ): Promise<PaymentView> {
    let toApply = answer;
    if (expected) {
      const step = this.decide(expected, answer);
      if (await this.write(this.db.manager, step, expected.version)) {
        return toPaymentView(step.row);
      }
      // Only an answer that would move the row as it is now needs Stripe's word on it.
      const now = await this.db.getRepository(PaymentOrmEntity).findOneByOrFail({ id: paymentId });
      const fresh = this.decide(now, answer).changed ? await this.reread(answer) : null;
      if (!fresh) return toPaymentView(now);
      toApply = fresh;
    }
    return this.db.transaction(async (manager) => {
      const row = await manager
        .getRepository(PaymentOrmEntity)
        .findOneOrFail({ where: { id: paymentId }, lock: { mode: 'pessimistic_write' } });
      const step = this.decide(row, toApply);
      await this.write(manager, step, row.version);
      return toPaymentView(step.row);
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

  /**
   * ONE statement: the change, conditioned on the row's `version`, and when the status moved, its
   * history line, its audit record and its `payment.status_changed` with what its listeners write (the
   * integration event and, on capture, the receipt with its e-mail). All of it is written only when
   * `moved` returned the row; false when the version no longer matched.
   */
  private async write(manager: EntityManager, step: Step, version: number): Promise<boolean> {
    const change: StatementPart = {
      ctes: [
        sql`moved AS (${updatePaymentSql(
          manager,
          step.row,
          sql`id = ${step.row.id} AND version = ${version}`,
        )} RETURNING id)`,
        ...(step.changed
          ? [
              sql`history AS (${this.historySql(manager, step.row.id, step.before, step.row.status, step.declineCode, 'moved')})`,
              sql`audit AS (${this.audit.recordSql(manager, step.audit, 'moved')})`,
            ]
          : []),
      ],
      outputs: [sql`(SELECT id FROM moved) AS moved`],
    };
    const result = await this.statusChange.executeWith(
      manager,
      [change],
      'moved',
      step.changed ? { row: step.row, from: step.before } : null,
    );
    return result.moved !== null;
  }

  /** The row after Stripe's answer (a copy), and whether the status moved. */
  private decide(current: PaymentOrmEntity, answer: StripeAnswer): Step {
    const row = { ...current };
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
    const changed = moved?.ok === true && moved.value.changed;
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
    row.updatedAt = this.clock.now();
    row.version += 1;
    return {
      row,
      before,
      changed,
      declineCode: row.status === 'failed' ? row.declineCode : null,
      audit: {
        accountId: row.accountId,
        action: 'payment.status_changed',
        entityType: 'payment',
        entityId: row.id,
        before: { status: before },
        after: {
          status: row.status,
          ...(row.failureCode ? { failureCode: row.failureCode } : {}),
          ...(row.declineCode ? { declineCode: row.declineCode } : {}),
        },
      },
    };
  }

  /** The status history line of a change (R-PAY-6), caused by the current actor. */
  private historySql(
    manager: EntityManager,
    paymentId: string,
    from: PaymentStatus | null,
    to: PaymentStatus,
    declineCode: string | null,
    onlyWith?: string,
  ): Sql {
    return statusHistorySql(
      manager,
      { paymentId, from, to, declineCode, cause: RequestContext.actor(), at: this.clock.now() },
      onlyWith,
    );
  }
}

/** Stripe's answer applied to a payment: the row after it (a copy) and what changed. */
interface Step {
  row: PaymentOrmEntity;
  before: PaymentStatus;
  changed: boolean;
  declineCode: string | null;
  audit: AuditEntryInput;
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
