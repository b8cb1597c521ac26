import type { RefundStatus } from '@billing/domain';

/** What other modules may know of a refund. Amount in minor units. */
export interface RefundView {
  id: string;
  paymentId: string;
  accountId: string;
  stripeRefundId: string | null;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string | null;
  note: string | null;
  failureReason: string | null;
  origin: 'api' | 'stripe';
  createdAt: string;
  updatedAt: string;
}
