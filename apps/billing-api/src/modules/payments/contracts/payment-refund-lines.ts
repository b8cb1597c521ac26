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
 * Lists a payment's refunds, oldest first, for the payment's detail. The refunds module provides it at
 * start-up (`PaymentsFacade.provideRefundLines`): refunds depends on payments, so payments cannot
 * import refunds, and the module graph stays acyclic.
 */
export type PaymentRefundLines = (paymentId: string) => Promise<PaymentRefundLine[]>;
