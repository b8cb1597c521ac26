import type { PaymentStatus } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { RequestContext, type Actor } from '../../../platform/context/request-context.js';
import { insertRowSql, queryRows, raw, sql, type Sql } from '../../../platform/database/row-sql.js';
import {
  claimHeldSql,
  linkKeySql,
  type IdempotencyClaim,
} from '../../../platform/idempotency/idempotency-claim.js';
import type { DomainEvent } from '../../../platform/events/domain-event.js';
import { DomainEvents } from '../../../platform/events/domain-events.js';
import type { BalanceValues } from '../../../platform/stripe/balance-transaction.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import type { AuditEntryInput } from '../../audit/contracts/audit-entry.js';
import { paymentMethodIdentified, paymentStatusChanged } from '../contracts/payment.events.js';
import { changedPaymentFields, statusHistorySql, updatePaymentSql } from './payment-writes.js';
import { PaymentOrmEntity } from './payment.orm-entity.js';

/** One move of the payment machine: its status history line and its audit record (R-PAY-6). */
export interface PaymentStep {
  from: PaymentStatus;
  to: PaymentStatus;
  declineCode: string | null;
}

/**
 * A change of one payment row: the row as its writer read it (`before`, whose `version` conditions the
 * write), the row it should become (`after`), and the machine's moves between them, in order.
 */
export interface PaymentChange {
  before: PaymentOrmEntity;
  after: PaymentOrmEntity;
  steps: readonly PaymentStep[];
  /** Announce `payment.method_identified` with the change (the card became known after a receipt). */
  methodIdentified?: boolean;
}

/** What {@link PaymentWriter.write} did. */
export type PaymentWriteResult = 'written' | 'unchanged' | 'conflict';

/** The columns of an attached payment method that a payment copies ({@link PaymentWriter.insertWithMethod}). */
export interface AttachedMethodColumns {
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

/** The name of the CTE that returns the payment's row when a write happened (listeners' `onlyWith`). */
const MOVED = 'payments__moved';

/**
 * The one writer of `payments` rows (issue 14: one writer per aggregate). The API's payment creation,
 * Stripe's answer to it, the janitor's settlement and the webhook mirror all write a payment through
 * this class, the same way:
 * - a change is detected by an explicit field comparison (`changedPaymentFields`): a change that
 *   changes nothing writes nothing, and the row's `version` stays;
 * - a change is ONE statement: the row conditioned on the `version` its writer read (a writer without
 *   the row lock learns that another writer got there first: `conflict`, nothing written; a writer
 *   holding the lock always matches), each move's status history line and audit record, and, when the
 *   status moved, `payment.status_changed` with the parts its statement listeners write (the receipt,
 *   the integration event, the metric). Plain listeners run after it in the same transaction.
 *   One statement per write is the payment path's budget (`npm run bench:payments`, issue 5).
 */
@Injectable()
export class PaymentWriter {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly events: DomainEvents,
  ) {}

  /**
   * Writes `change.after` over the row when it differs from `change.before` and the row's version is
   * still `change.before.version`; on `written`, `change.after` holds the new version and update time.
   */
  async write(manager: EntityManager, change: PaymentChange, cause?: Actor): Promise<PaymentWriteResult> {
    const { before, after, steps } = change;
    if (changedPaymentFields(before, after).length === 0) return 'unchanged';
    const written: PaymentOrmEntity = { ...after, version: before.version + 1, updatedAt: this.clock.now() };
    const ctes = [
      sql`${raw(MOVED)} AS (${updatePaymentSql(
        manager,
        written,
        sql`id = ${written.id} AND version = ${before.version}`,
      )} RETURNING id)`,
      ...this.stepsSql(manager, written, steps, cause),
    ];
    const events: DomainEvent[] = [];
    if (written.status !== before.status) events.push(this.statusChanged(written, before.status));
    if (change.methodIdentified) events.push(this.methodIdentified(written));
    const result = await this.events.publishWithStatement(
      manager,
      events,
      [{ ctes, outputs: [sql`(SELECT id FROM ${raw(MOVED)}) AS ${raw(MOVED)}`] }],
      MOVED,
      (row) => row[MOVED] !== null,
    );
    if (result[MOVED] === null) return 'conflict';
    Object.assign(after, { version: written.version, updatedAt: written.updatedAt });
    return 'written';
  }

  /**
   * Inserts a payment our API creates, in ONE statement, all or nothing: the payment's only round trip
   * before Stripe (`npm run bench:payments`). Reads the attached payment method (`methodWhere`), and
   * when it is there writes the payment with the method's columns, its first status history line and
   * its audit record (`payment.created`). `customer` null: the method's customer, and nothing is
   * written when the method has none (`inserted` false). Returns the method's columns, or null when no
   * such method is attached to the account.
   *
   * With an Idempotency-Key `claim` (issue 16) the same statement links the payment to the key, and
   * writes the payment only when it could: a retry of a request that failed or died after this
   * statement is answered from the payment and never creates a second one; `claimHeld` false when a
   * retry had taken the key over (nothing written).
   */
  async insertWithMethod(
    manager: EntityManager,
    row: PaymentOrmEntity,
    methodWhere: Sql,
    customer: string | null,
    claim: IdempotencyClaim | null,
  ): Promise<(AttachedMethodColumns & { inserted: boolean; claimHeld: boolean }) | null> {
    const condition = customer === null ? 'm.stripe_customer_id IS NOT NULL' : 'true';
    const [found] = await queryRows<AttachedMethodColumns & { inserted: boolean; claimHeld: boolean }>(
      manager,
      sql`WITH m AS (SELECT ${METHOD_COLUMNS} FROM payment_methods WHERE ${methodWhere}),
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
        history AS (${this.historySql(manager, row.id, null, row.status, null, undefined, 'payment')}),
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
   * Records the fee and net of the payment's charge (its balance transaction) while they are unrecorded
   * and the charge is still the payment's latest. Not a change of the payment (its status, amounts,
   * card): Stripe's bookkeeping about it, so the row's `version` stays, and no API write conditioned on
   * that version is refused because a fee arrived meanwhile; nothing to audit or announce. False when
   * there was nothing to record.
   */
  async recordBalance(
    manager: EntityManager,
    paymentId: string,
    chargeId: string,
    balance: BalanceValues,
  ): Promise<boolean> {
    const recorded = await queryRows(
      manager,
      sql`UPDATE payments
             SET balance_transaction_id = ${balance.balanceTransactionId}, fee = ${balance.fee},
                 net = ${balance.net}
           WHERE id = ${paymentId}::uuid AND fee IS NULL AND latest_charge_id = ${chargeId}
       RETURNING id`,
    );
    return recorded.length > 0;
  }

  /**
   * Inserts a payment first seen at Stripe (the mirror), unless a row with its id or PaymentIntent
   * exists (two workers mirroring one new PaymentIntent: the unique PaymentIntent id decides, the loser
   * then updates the winner's row like any later event). With it, in the same statement: its first
   * status history line, its audit record (`payment.mirrored`) and `payment.status_changed` from null.
   * True when this call inserted it.
   */
  async insertMirrored(manager: EntityManager, row: PaymentOrmEntity, cause?: Actor): Promise<boolean> {
    const ctes = [
      sql`${raw(MOVED)} AS (${insertRowSql(manager, PaymentOrmEntity, row)} ON CONFLICT DO NOTHING RETURNING id)`,
      sql`payments__history AS (${this.historySql(manager, row.id, null, row.status, row.declineCode, cause, MOVED)})`,
      sql`payments__audit AS (${this.audit.recordSql(
        manager,
        {
          accountId: row.accountId,
          action: 'payment.mirrored',
          entityType: 'payment',
          entityId: row.id,
          after: {
            stripePaymentIntentId: row.stripePaymentIntentId,
            status: row.status,
            amount: row.amount,
            currency: row.currency,
          },
          ...(cause ? { actor: cause } : {}),
        },
        MOVED,
      )})`,
    ];
    const result = await this.events.publishWithStatement(
      manager,
      [this.statusChanged(row, null)],
      [{ ctes, outputs: [sql`(SELECT id FROM ${raw(MOVED)}) AS ${raw(MOVED)}`] }],
      MOVED,
      (r) => r[MOVED] !== null,
    );
    return result[MOVED] !== null;
  }

  /**
   * Sets the PaymentIntent id of a payment our API created before Stripe answered (the mirror found it by
   * `metadata.payment_id`). The one write that keeps the row's version: it sets what the API's own
   * answer sets, so that the API's version-checked write of that answer still holds and needs no
   * re-read from Stripe (`npm run bench:payments`). Nothing else changes with it.
   */
  async linkPaymentIntent(manager: EntityManager, row: PaymentOrmEntity, intentId: string): Promise<void> {
    await queryRows(
      manager,
      sql`UPDATE payments SET stripe_payment_intent_id = ${intentId}
           WHERE id = ${row.id}::uuid AND (stripe_payment_intent_id IS NULL OR stripe_payment_intent_id = ${intentId})`,
    );
    row.stripePaymentIntentId = intentId;
  }

  /**
   * The history line and audit record of each move, written only when the row was, in the order of the
   * moves: each line's CTE reads the one before (PostgreSQL runs a CTE whose rows another reads first),
   * so the lines' ids, by which the history is listed, follow the moves.
   */
  private stepsSql(
    manager: EntityManager,
    row: PaymentOrmEntity,
    steps: readonly PaymentStep[],
    cause: Actor | undefined,
  ): Sql[] {
    return steps.flatMap((step, i) => {
      const after = (kind: string) => (i === 0 ? MOVED : `payments__${kind}_${i - 1}`);
      return [
        sql`${raw(`payments__history_${i}`)} AS (${this.historySql(manager, row.id, step.from, step.to, step.declineCode, cause, after('history'))} RETURNING id)`,
        sql`${raw(`payments__audit_${i}`)} AS (${this.audit.recordSql(manager, this.stepAudit(row, step, cause), after('audit'))} RETURNING id)`,
      ];
    });
  }

  private stepAudit(row: PaymentOrmEntity, step: PaymentStep, cause: Actor | undefined): AuditEntryInput {
    // A decline's codes are the row's (the API's answer) or the step's (an event's input).
    const failure =
      step.to === 'failed'
        ? {
            ...(row.failureCode ? { failureCode: row.failureCode } : {}),
            ...((step.declineCode ?? row.declineCode)
              ? { declineCode: step.declineCode ?? row.declineCode }
              : {}),
          }
        : {};
    return {
      accountId: row.accountId,
      action: 'payment.status_changed',
      entityType: 'payment',
      entityId: row.id,
      before: { status: step.from },
      after: { status: step.to, ...failure },
      ...(cause ? { actor: cause } : {}),
    };
  }

  /** The status history line of a change (R-PAY-6), caused by `cause` (default: the current actor). */
  private historySql(
    manager: EntityManager,
    paymentId: string,
    from: PaymentStatus | null,
    to: PaymentStatus,
    declineCode: string | null,
    cause: Actor | undefined,
    onlyWith?: string,
  ): Sql {
    return statusHistorySql(
      manager,
      { paymentId, from, to, declineCode, cause: cause ?? RequestContext.actor(), at: this.clock.now() },
      onlyWith,
    );
  }

  /** `payment.status_changed` of `row` (as it is after the change) from `from`. */
  private statusChanged(
    row: PaymentOrmEntity,
    from: PaymentStatus | null,
  ): DomainEvent<'payment.status_changed'> {
    return paymentStatusChanged({
      paymentId: row.id,
      accountId: row.accountId,
      paymentVersion: row.version,
      from,
      to: row.status,
      amount: row.amount,
      amountReceived: row.amountReceived,
      amountRefunded: row.amountRefunded,
      currency: row.currency,
      description: row.description,
      orderReference: row.orderReference,
      stripePaymentIntentId: row.stripePaymentIntentId,
      failureCode: row.failureCode,
      declineCode: row.declineCode,
      cardBrand: row.cardBrand,
      cardLast4: row.cardLast4,
      succeededAt: row.succeededAt?.toISOString() ?? null,
      feeRecorded: row.fee !== null,
      occurredAt: this.clock.now().toISOString(),
    });
  }

  private methodIdentified(row: PaymentOrmEntity): DomainEvent<'payment.method_identified'> {
    return paymentMethodIdentified({
      paymentId: row.id,
      accountId: row.accountId,
      cardBrand: row.cardBrand,
      cardLast4: row.cardLast4,
    });
  }
}
