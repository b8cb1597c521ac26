import type { PaymentStatus } from '@billing/domain';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../../../platform/context/request-context.js';
import { insertRowSql, sql, type Sql, updateRowSql } from '../../../platform/database/row-sql.js';
import { PaymentStatusHistoryOrmEntity } from './payment-status-history.orm-entity.js';
import { PaymentOrmEntity } from './payment.orm-entity.js';

/**
 * The payments module's row writes as SQL fragments (platform/database/row-sql.ts), and the explicit
 * comparison of two states of a row: the parts `PaymentWriter`, the one writer of payment rows, puts
 * together into one statement per write.
 */

/** `UPDATE payments SET <every column> WHERE <where>` (by default: this row's id). */
export function updatePaymentSql(manager: EntityManager, row: PaymentOrmEntity, where?: Sql): Sql {
  return updateRowSql(manager, PaymentOrmEntity, row, where ?? sql`id = ${row.id}`);
}

/** One status change of a payment (R-PAY-6). */
export interface PaymentStatusLine {
  paymentId: string;
  from: PaymentStatus | null;
  to: PaymentStatus;
  declineCode: string | null;
  cause: Actor;
  at: Date;
}

/** The status history line of a change; with `onlyWith`, written only when that CTE returned a row. */
export function statusHistorySql(manager: EntityManager, line: PaymentStatusLine, onlyWith?: string): Sql {
  return insertRowSql(
    manager,
    PaymentStatusHistoryOrmEntity,
    {
      paymentId: line.paymentId,
      fromStatus: line.from,
      toStatus: line.to,
      causeType: line.cause.type,
      causeId: line.cause.id,
      declineCode: line.declineCode,
      at: line.at,
    },
    onlyWith,
  );
}

/** How each column of a payment is compared; exhaustive, so a new column must be classified here. */
const PAYMENT_COMPARISON = {
  id: 'value',
  accountId: 'value',
  stripePaymentIntentId: 'value',
  stripeCustomerId: 'value',
  amount: 'value',
  currency: 'value',
  status: 'value',
  amountReceived: 'value',
  amountRefunded: 'value',
  description: 'value',
  orderReference: 'value',
  metadata: 'record',
  stripePaymentMethodId: 'value',
  paymentMethodType: 'value',
  cardBrand: 'value',
  cardLast4: 'value',
  cardExpMonth: 'value',
  cardExpYear: 'value',
  cardFunding: 'value',
  failureCode: 'value',
  declineCode: 'value',
  failureMessage: 'value',
  latestChargeId: 'value',
  checkoutSessionId: 'value',
  balanceTransactionId: 'value',
  fee: 'value',
  net: 'value',
  origin: 'value',
  succeededAt: 'date',
  stripeCreatedAt: 'date',
  lastEventCreated: 'value',
  // Bookkeeping of a write, not a change: a write that changes nothing else bumps neither.
  version: 'ignored',
  createdAt: 'date',
  updatedAt: 'ignored',
} as const satisfies Record<keyof PaymentOrmEntity, 'value' | 'date' | 'record' | 'ignored'>;

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** The columns whose values differ between two states of a payment row (an explicit comparison). */
export function changedPaymentFields(
  before: PaymentOrmEntity,
  after: PaymentOrmEntity,
): (keyof PaymentOrmEntity)[] {
  return (Object.keys(PAYMENT_COMPARISON) as (keyof PaymentOrmEntity)[]).filter((field) => {
    switch (PAYMENT_COMPARISON[field]) {
      case 'ignored':
        return false;
      case 'date':
        return (before[field] as Date | null)?.getTime() !== (after[field] as Date | null)?.getTime();
      case 'record':
        return !sameRecord(before.metadata, after.metadata);
      case 'value':
        return before[field] !== after[field];
    }
  });
}

/** A copy of a payment row to compare against after changing the row in place. */
export function paymentSnapshot(row: PaymentOrmEntity): PaymentOrmEntity {
  return { ...row, metadata: { ...row.metadata } };
}
