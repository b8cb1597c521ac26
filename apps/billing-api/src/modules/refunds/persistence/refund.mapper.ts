import { money, type RefundLine } from '@billing/domain';
import type { RefundView } from '../contracts/refund.view.js';
import type { RefundOrmEntity } from './refund.orm-entity.js';

export function toRefundView(row: RefundOrmEntity): RefundView {
  return {
    id: row.id,
    paymentId: row.paymentId,
    accountId: row.accountId,
    stripeRefundId: row.stripeRefundId,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    reason: row.reason,
    note: row.note,
    failureReason: row.failureReason,
    origin: row.origin,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The refund as the domain's money rules see it. */
export function toRefundLine(row: RefundOrmEntity): RefundLine {
  return { amount: money(row.amount, row.currency), status: row.status };
}
