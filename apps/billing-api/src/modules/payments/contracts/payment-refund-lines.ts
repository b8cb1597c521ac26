/** A refund as the detail of its payment lists it (R-PAY-3). */
export interface PaymentRefundLine {
  id: string;
  amount: number;
  currency: string;
  status: string;
  reason: string | null;
  /** The refunder's note (required with reason `other`); null for refunds made in Stripe. */
  note: string | null;
  createdAt: string;
}

/**
 * The query contract through which a payment's detail lists its refunds, oldest first. Payments
 * declares it; the refunds module provides it under {@link PAYMENT_REFUND_LINES} (refunds depends on
 * payments, so payments cannot import refunds). Payments resolves it by this token from the whole
 * application at start-up, and refuses to start without it.
 */
export interface PaymentRefundLines {
  forPayment(paymentId: string): Promise<PaymentRefundLine[]>;
}

/** The injection token of {@link PaymentRefundLines}. */
export const PAYMENT_REFUND_LINES = 'billing:payment-refund-lines';
