/** Stripe's limit on metadata keys of one object (docs.stripe.com/metadata: "up to 50 keys"). */
export const STRIPE_METADATA_MAX_KEYS = 50;

/**
 * The keys the service itself sets on a payment's PaymentIntent: the webhooks find the payment by
 * `payment_id`, and reconciliation reads the others. A client may not set them.
 */
export const RESERVED_PAYMENT_METADATA_KEYS = ['payment_id', 'account_id', 'order_reference'] as const;
export type ReservedPaymentMetadataKey = (typeof RESERVED_PAYMENT_METADATA_KEYS)[number];

/** How many metadata keys a client may give a payment: Stripe's 50 minus the reserved ones (47). */
export const MAX_PAYMENT_METADATA_KEYS = STRIPE_METADATA_MAX_KEYS - RESERVED_PAYMENT_METADATA_KEYS.length;

/** True for a key the service sets on the PaymentIntent itself. */
export function isReservedPaymentMetadataKey(key: string): key is ReservedPaymentMetadataKey {
  return (RESERVED_PAYMENT_METADATA_KEYS as readonly string[]).includes(key);
}
