import type Stripe from 'stripe';
import { idOf, requiredString } from '../webhooks/stripe-payload.js';

/** The card (or other method) summary the app may keep: never the number, only brand and last 4. */
export interface PaymentMethodSummary {
  type: string;
  cardBrand: string | null;
  cardLast4: string | null;
  cardExpMonth: number | null;
  cardExpYear: number | null;
  cardFunding: string | null;
}

/** A `payment_method.*` payload as the mirror needs it. */
export interface PaymentMethodValues extends PaymentMethodSummary {
  stripePaymentMethodId: string;
  /** The customer it is attached to now (null once detached). */
  stripeCustomerId: string | null;
  /** On `payment_method.detached`, the customer it was attached to (from `previous_attributes`). */
  previousCustomerId: string | null;
}

/** Brand, last 4, expiry and funding of a card payment method; nulls for other types. */
export function summarizePaymentMethod(
  pm: Pick<Stripe.PaymentMethod, 'type' | 'card'>,
): PaymentMethodSummary {
  const card = pm.card ?? null;
  return {
    type: pm.type,
    cardBrand: card?.brand ?? null,
    cardLast4: card?.last4 ?? null,
    cardExpMonth: card?.exp_month ?? null,
    cardExpYear: card?.exp_year ?? null,
    cardFunding: card?.funding ?? null,
  };
}

/** `payment_method.attached` / `detached` / `automatically_updated` / `updated` -> mirror values. */
export function transformStripePaymentMethod(
  pm: Stripe.PaymentMethod,
  previousAttributes?: Record<string, unknown> | null,
): PaymentMethodValues {
  const previous = previousAttributes ?? null;
  return {
    stripePaymentMethodId: requiredString(pm.id, 'payment_method.id'),
    stripeCustomerId: idOf(pm.customer),
    previousCustomerId: previous && 'customer' in previous ? idOf(previous.customer) : null,
    ...summarizePaymentMethod(pm),
  };
}
