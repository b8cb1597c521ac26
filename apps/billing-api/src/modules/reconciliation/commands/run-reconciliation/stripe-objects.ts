import type Stripe from 'stripe';
import type { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';

/** Stripe's page size limit: each page is one API call, and all the run keeps of Stripe at a time. */
export const STRIPE_PAGE = 100;

/**
 * Pages through one Stripe list the way the SDK's auto-pagination does (`starting_after` the last id
 * while `has_more`), each page through the gateway (errors classified, time counted), yielding one page
 * at a time so that the caller never holds more than a page.
 */
export async function* stripePages<T extends { id: string }>(
  gateway: StripeGateway,
  operation: string,
  list: (stripe: Stripe, startingAfter: string | undefined) => Promise<Stripe.ApiList<T>>,
): AsyncGenerator<T[]> {
  let after: string | undefined;
  for (;;) {
    const page = await gateway.call(operation, (stripe) => list(stripe, after));
    if (page.data.length > 0) yield page.data;
    const last = page.data.at(-1);
    if (!page.has_more || !last) return;
    after = last.id;
  }
}

/** The Stripe event type whose handler applies a PaymentIntent in this status. */
export function paymentIntentEventType(status: Stripe.PaymentIntent.Status): string {
  switch (status) {
    case 'succeeded':
      return 'payment_intent.succeeded';
    case 'canceled':
      return 'payment_intent.canceled';
    case 'requires_payment_method':
      return 'payment_intent.payment_failed';
    case 'requires_action':
      return 'payment_intent.requires_action';
    case 'processing':
      return 'payment_intent.processing';
    case 'requires_capture':
      return 'payment_intent.amount_capturable_updated';
    case 'requires_confirmation':
    default:
      return 'payment_intent.created';
  }
}
