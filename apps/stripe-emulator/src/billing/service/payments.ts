/**
 * The payment side the billing engine needs from CORE (payment methods, payment intents, setup
 * intents), behind one small port so the engine does not depend on how CORE names things.
 */
import type Stripe from 'stripe';
import type { Account } from '../../core/state.js';
import { type StripeApiError, cardError } from '../../http/errors.js';

export interface ChargeRequest {
  amount: number;
  currency: string;
  customer: string | null;
  paymentMethod: string;
  offSession: boolean;
  description: string;
  metadata: Record<string, string>;
  invoiceId: string | null;
}

export interface ChargeFailure {
  code: string | undefined;
  declineCode: string | undefined;
  message: string;
  type: string;
}

export interface ChargeResult {
  paymentIntent: Stripe.PaymentIntent;
  outcome: 'succeeded' | 'requires_action' | 'failed' | 'processing';
  failure: ChargeFailure | null;
}

/** The 402 `card_error` a charge that did not succeed answers with (its decline, else `card_declined`). */
export function declineError(result: ChargeResult): StripeApiError {
  return cardError({
    code: result.failure?.code ?? 'card_declined',
    declineCode: result.failure?.declineCode,
    message: result.failure?.message ?? 'Your card was declined.',
    extra: { payment_intent: result.paymentIntent },
  });
}

export interface PaymentsPort {
  /** A payment method by id or test shortcut (`pm_card_visa`, `tok_visa`), attached to `customer` when given. */
  resolvePaymentMethod(
    account: Account,
    idOrShortcut: string,
    customer: string | null,
    param: string,
  ): Stripe.PaymentMethod;
  /** Creates and confirms a PaymentIntent for an invoice. */
  charge(account: Account, request: ChargeRequest): ChargeResult;
  /**
   * An unconfirmed PaymentIntent for an invoice (`default_incomplete`), with the payment method when one
   * is known (`requires_confirmation`) or without (`requires_payment_method`).
   */
  openForInvoice(
    account: Account,
    request: {
      amount: number;
      currency: string;
      customer: string;
      paymentMethod: string | null;
      description: string;
      invoiceId: string;
    },
  ): Stripe.PaymentIntent;
  /** The invoice a PaymentIntent was made for, or null. */
  invoiceOf(account: Account, paymentIntentId: string): string | null;
  /** A succeeded SetupIntent for a method the customer just saved (checkout setup mode). */
  createSucceededSetupIntent(account: Account, customer: string, paymentMethod: string): Stripe.SetupIntent;
}

let port: PaymentsPort | undefined;

export function setPaymentsPort(p: PaymentsPort): void {
  port = p;
}

export function payments(): PaymentsPort {
  if (!port) throw new Error('billing: payments port not installed');
  return port;
}
