import type { RefundView } from '../../contracts/refund.view.js';
import type { RefundDto } from './refund.dto.js';

/** The API's shape of a refund. */
export function toRefundDto(refund: RefundView): RefundDto {
  return {
    id: refund.id,
    paymentId: refund.paymentId,
    accountId: refund.accountId,
    amount: refund.amount,
    currency: refund.currency,
    status: refund.status,
    reason: refund.reason,
    note: refund.note,
    stripeRefundId: refund.stripeRefundId,
    failureReason: refund.failureReason,
    origin: refund.origin,
    createdAt: refund.createdAt,
  };
}
