import type { RefundStatus } from '@billing/domain';
import { declareDomainEvents, domainEvent } from '../../../platform/events/domain-event.js';

export type { RefundStatus };

/**
 * A refund moved to a status (from null: first seen in it), published in the transaction that made the
 * change, whichever path made it (a refund webhook, or the API when Stripe refused the refund outright).
 * A refund reaches each status at most once. Amount in minor units.
 */
export interface RefundStatusChanged {
  refundId: string;
  paymentId: string;
  accountId: string;
  from: RefundStatus | null;
  to: RefundStatus;
  amount: number;
  currency: string;
  reason: string | null;
  failureReason: string | null;
  stripeRefundId: string | null;
  occurredAt: string;
}

declare module '../../../platform/events/domain-event.js' {
  interface DomainEventPayloads {
    'refund.status_changed': RefundStatusChanged;
  }
}

export const REFUND_EVENTS = declareDomainEvents('refunds', ['refund.status_changed']);

/** The event of a status change (builds it typed; importing it declares the refunds module's events). */
export const refundStatusChanged = (payload: RefundStatusChanged) =>
  domainEvent('refund.status_changed', payload);
