import type Stripe from 'stripe';
import { uuidOrNull } from '../../../platform/validation/uuid.js';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import { idOf } from '../../../platform/stripe/stripe-ids.js';

/** A completed Checkout Session as the mirrors need it (R-SUB-2). */
export interface CheckoutSessionValues {
  checkoutSessionId: string;
  mode: 'payment' | 'subscription' | 'setup';
  /** The account the app opened the session for: `client_reference_id`, else `metadata.account_id`. */
  accountId: string | null;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  stripePaymentIntentId: string | null;
  complete: boolean;
}

const MODES = ['payment', 'subscription', 'setup'] as const;

export function transformStripeCheckoutSession(session: Stripe.Checkout.Session): CheckoutSessionValues {
  if (typeof session.id !== 'string' || !session.id) {
    throw new PermanentEventError('checkout session id is missing', 'malformed_payload');
  }
  const mode = MODES.find((m) => m === session.mode);
  if (!mode) {
    throw new PermanentEventError(`unknown checkout mode '${String(session.mode)}'`, 'malformed_payload');
  }
  return {
    checkoutSessionId: session.id,
    mode,
    accountId: uuidOrNull(session.client_reference_id) ?? uuidOrNull(session.metadata?.account_id),
    stripeCustomerId: idOf(session.customer),
    stripeSubscriptionId: idOf(session.subscription),
    stripePaymentIntentId: idOf(session.payment_intent),
    complete: session.status === 'complete',
  };
}
