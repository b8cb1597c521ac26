import type { PaymentStatus } from '@billing/domain';
import type { PaymentRefundLine } from './payment-refund-lines.js';

/** A card or other method summary: brand and last 4 only, never card data (R-CORE-6). */
export interface PaymentMethodSummaryView {
  stripePaymentMethodId: string | null;
  type: string | null;
  brand: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
  funding: string | null;
}

/** What other modules may know of a payment. Amounts in minor units. */
export interface PaymentView {
  id: string;
  accountId: string;
  stripePaymentIntentId: string | null;
  amount: number;
  currency: string;
  status: PaymentStatus;
  amountReceived: number;
  amountRefunded: number;
  /** Stripe's fee and what reached the balance, from the charge's balance transaction; null until mirrored. */
  fee: number | null;
  net: number | null;
  description: string | null;
  orderReference: string | null;
  metadata: Record<string, string>;
  paymentMethod: PaymentMethodSummaryView;
  failureCode: string | null;
  declineCode: string | null;
  failureMessage: string | null;
  latestChargeId: string | null;
  checkoutSessionId: string | null;
  origin: 'api' | 'stripe';
  succeededAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What the client needs to run a 3-D Secure challenge (a payment in `requires_action`). */
export interface NextActionView {
  /** Stripe's next_action type. */
  type: string;
  clientSecret: string;
  /** The challenge page, for redirect flows. */
  redirectUrl: string | null;
}

export interface PaymentStatusChangeView {
  fromStatus: PaymentStatus | null;
  toStatus: PaymentStatus;
  cause: { type: 'user' | 'system' | 'stripe_event' | 'reconciliation'; id: string | null };
  declineCode: string | null;
  at: string;
}

export interface SavedPaymentMethodView {
  id: string;
  stripePaymentMethodId: string;
  accountId: string | null;
  type: string;
  brand: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
  funding: string | null;
  status: 'attached' | 'detached';
  attachedAt: string | null;
  detachedAt: string | null;
}

/** A locked payment, as the refunds module needs it to apply a refund (lock order: payment, then refund). */
export interface LockedPaymentRef {
  id: string;
  accountId: string;
  currency: string;
  status: PaymentStatus;
  amountReceived: number;
}

/** An account's saved method as its owner sees it: with whether it is the customer's default. */
export interface AccountPaymentMethodView extends SavedPaymentMethodView {
  isDefault: boolean;
}

/** A SetupIntent for saving a card with Stripe Elements (R-PAY-2). */
export interface SetupIntentView {
  id: string;
  clientSecret: string;
  status: string;
}

/** One line of a payment's status history as its detail shows it (R-PAY-6). */
export interface PaymentHistoryLineView {
  fromStatus: PaymentStatus | null;
  toStatus: PaymentStatus;
  causeType: string;
  causeId: string | null;
  declineCode: string | null;
  at: string;
}

/** A payment in full: its status history (oldest first) and its refunds. */
export interface PaymentDetailView {
  payment: PaymentView;
  statusHistory: PaymentHistoryLineView[];
  refunds: PaymentRefundLine[];
}
