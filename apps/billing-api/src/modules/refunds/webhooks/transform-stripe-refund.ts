import type { RefundStatus } from '@billing/domain';
import type Stripe from 'stripe';
import { uuidOrNull } from '../../../platform/validation/uuid.js';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import { idOf } from '../../../platform/stripe/stripe-ids.js';
import {
  balanceTransactionIdOf,
  balanceValuesOf,
  type BalanceValues,
} from '../../../platform/stripe/balance-transaction.js';

const REFUND_STATUSES: readonly RefundStatus[] = [
  'pending',
  'requires_action',
  'succeeded',
  'failed',
  'canceled',
];

/** A Stripe refund as the refunds mirror needs it (R-REF-3, R-REF-4). */
export interface RefundValues {
  stripeRefundId: string;
  stripePaymentIntentId: string | null;
  stripeChargeId: string | null;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string | null;
  failureReason: string | null;
  /** Our refund id when the app issued it (`metadata.refund_id`). */
  appRefundId: string | null;
  stripeCreatedAt: Date | null;
  /** The refund's balance transaction: its id (webhooks), and its values when expanded. */
  balanceTransactionId: string | null;
  balance: BalanceValues | null;
}

/** `refund.*` / `charge.refund.updated` payload (or a re-read refund) -> mirror values. */
export function transformStripeRefund(refund: Stripe.Refund): RefundValues {
  if (typeof refund.id !== 'string' || !refund.id) {
    throw new PermanentEventError('refund.id is missing', 'malformed_payload');
  }
  const status = refund.status as RefundStatus | null;
  if (status === null || !REFUND_STATUSES.includes(status)) {
    throw new PermanentEventError(`unknown refund status '${String(refund.status)}'`, 'malformed_payload');
  }
  if (!Number.isSafeInteger(refund.amount) || refund.amount <= 0) {
    throw new PermanentEventError(`refund ${refund.id} has no positive integer amount`, 'malformed_payload');
  }
  const currency = String(refund.currency ?? '').toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) {
    throw new PermanentEventError(`refund ${refund.id} has no ISO currency`, 'malformed_payload');
  }
  const metadata = (refund.metadata ?? {}) as Record<string, unknown>;
  return {
    stripeRefundId: refund.id,
    stripePaymentIntentId: idOf(refund.payment_intent),
    stripeChargeId: idOf(refund.charge),
    amount: refund.amount,
    currency,
    status,
    reason: refund.reason ?? null,
    failureReason: refund.failure_reason ?? null,
    appRefundId: uuidOrNull(metadata.refund_id),
    stripeCreatedAt: typeof refund.created === 'number' ? new Date(refund.created * 1000) : null,
    balanceTransactionId: balanceTransactionIdOf(refund.balance_transaction),
    balance: balanceValuesOf(refund.balance_transaction),
  };
}
