/**
 * The event types to enable on the service's Stripe webhook endpoint (README, "Stripe webhook
 * endpoint"). Stripe's advice is to subscribe only to what the integration needs: every delivery costs
 * an intake, an inbox row, a queue job and a processing transaction, and a one-time payment made through
 * the API then brings one event (`payment_intent.succeeded`) instead of three.
 *
 * R-WH-6's list and what the mirrors need besides (processing and manual-capture PaymentIntents,
 * refunds' own events, the subscription and invoice lifecycle, customers made in the dashboard).
 * Every type here has a handler; the webhooks integration test checks both lists against the
 * dispatcher.
 */
export const STRIPE_ENDPOINT_EVENTS: readonly string[] = [
  'charge.refund.updated',
  'charge.refunded',
  'checkout.session.async_payment_succeeded',
  'checkout.session.completed',
  'customer.created',
  'customer.deleted',
  'customer.subscription.created',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.pending_update_applied',
  'customer.subscription.pending_update_expired',
  'customer.subscription.resumed',
  'customer.subscription.trial_will_end',
  'customer.subscription.updated',
  'customer.updated',
  'invoice.created',
  'invoice.finalized',
  'invoice.marked_uncollectible',
  'invoice.overdue',
  'invoice.paid',
  'invoice.payment_action_required',
  'invoice.payment_failed',
  'invoice.payment_succeeded',
  'invoice.upcoming',
  'invoice.updated',
  'invoice.voided',
  'payment_intent.amount_capturable_updated',
  'payment_intent.canceled',
  'payment_intent.payment_failed',
  'payment_intent.processing',
  'payment_intent.requires_action',
  'payment_intent.succeeded',
  'payment_method.attached',
  'payment_method.automatically_updated',
  'payment_method.detached',
  'payment_method.updated',
  'refund.created',
  'refund.failed',
  'refund.updated',
];

/**
 * Types the service handles when an endpoint sends them (e.g. one enabled for `*`) but does not need,
 * with the reason. Nothing is lost without them.
 */
export const OPTIONAL_STRIPE_EVENTS: Readonly<Record<string, string>> = {
  'payment_intent.created':
    'the API writes its payment before Stripe sees it; a PaymentIntent made elsewhere is mirrored from its next event',
  'charge.succeeded':
    'the card summary comes from the saved method (API payments) or is re-read from the charge when the payment is first captured',
  'test_helpers.test_clock.ready':
    "test mode only: under a Stripe test clock, a clock's new time runs the dunning steps due by it (docs/dunning.md)",
  'charge.failed':
    "a failure's code and message come from payment_intent.payment_failed (or the API's answer)",
};
