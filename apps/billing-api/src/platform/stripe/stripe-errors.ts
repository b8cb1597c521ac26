import Stripe from 'stripe';

/** What went wrong with a Stripe call, in terms the app can act on (R-PAY-5). */
export type StripeFailureKind =
  | 'card' // declined, expired, … : final for this attempt
  | 'authentication_required' // 3-D Secure needed
  | 'rate_limited' // Stripe's 429 after the SDK's own retries
  | 'unavailable' // network, timeout or Stripe 5xx after retries: the outcome is UNKNOWN
  | 'idempotency' // a key reused with other parameters: our bug
  | 'invalid_request' // Stripe refused the parameters: our bug or stale data
  | 'not_found' // the Stripe object does not exist
  | 'configuration'; // bad API key or permissions

/** Our stable error codes for Stripe failures (they join the API's code -> status table). */
export const STRIPE_ERROR_CODES = [
  'card_declined',
  'insufficient_funds',
  'expired_card',
  'incorrect_cvc',
  'incorrect_number',
  'processing_error',
  'authentication_required',
  'payment_provider_rate_limited',
  'payment_provider_unavailable',
  'payment_provider_error',
] as const;
export type StripeErrorCode = (typeof STRIPE_ERROR_CODES)[number];

const FRIENDLY: Record<StripeErrorCode, string> = {
  card_declined:
    'The card was declined. Ask the customer to use another payment method or contact their bank.',
  insufficient_funds: 'The card has insufficient funds. Ask the customer to use another payment method.',
  expired_card: 'The card has expired. Ask the customer to update their card.',
  incorrect_cvc: "The card's security code is incorrect.",
  incorrect_number: 'The card number is incorrect.',
  processing_error: 'The card could not be processed. Try again in a little while.',
  authentication_required: 'The bank requires the customer to authenticate this payment (3-D Secure).',
  payment_provider_rate_limited: 'The payment provider is receiving too many requests. Retry shortly.',
  // Also answered where nothing settles by itself (saving a card, choosing the default): say what to do.
  // A payment whose outcome is unknown is answered 202 with its state instead of this error.
  payment_provider_unavailable: 'The payment provider could not be reached. Retry shortly.',
  payment_provider_error: 'The payment provider refused the request.',
};

/** A failed Stripe call, classified; carries no secret and no card data. */
export class StripeCallError extends Error {
  constructor(
    readonly operation: string,
    readonly kind: StripeFailureKind,
    readonly code: StripeErrorCode,
    readonly detail: {
      stripeCode?: string;
      declineCode?: string;
      param?: string;
      requestId?: string;
      statusCode?: number;
    },
  ) {
    super(`${operation}: ${kind} (${detail.stripeCode ?? code})`);
    this.name = 'StripeCallError';
  }

  /** A friendly message for clients; never Stripe's raw message, which may name internals. */
  get friendlyMessage(): string {
    return FRIENDLY[this.code];
  }

  /** True when the call may have taken effect at Stripe: the caller must not treat it as failed. */
  get outcomeUnknown(): boolean {
    return this.kind === 'unavailable';
  }
}

const CARD_CODES: Partial<Record<string, StripeErrorCode>> = {
  insufficient_funds: 'insufficient_funds',
  expired_card: 'expired_card',
  incorrect_cvc: 'incorrect_cvc',
  invalid_cvc: 'incorrect_cvc',
  incorrect_number: 'incorrect_number',
  invalid_number: 'incorrect_number',
  processing_error: 'processing_error',
  authentication_required: 'authentication_required',
};

/** Classifies anything the SDK throws (R-PAY-5). Unknown errors are treated as "outcome unknown". */
export function classifyStripeError(operation: string, error: unknown): StripeCallError {
  if (error instanceof StripeCallError) return error;
  if (!(error instanceof Stripe.errors.StripeError)) {
    return new StripeCallError(operation, 'unavailable', 'payment_provider_unavailable', {});
  }
  const detail = {
    ...(error.code ? { stripeCode: error.code } : {}),
    ...(error.decline_code ? { declineCode: error.decline_code } : {}),
    ...(error.param ? { param: error.param } : {}),
    ...(error.requestId ? { requestId: error.requestId } : {}),
    ...(error.statusCode ? { statusCode: error.statusCode } : {}),
  };
  if (error instanceof Stripe.errors.StripeCardError) {
    const byDecline = error.decline_code ? CARD_CODES[error.decline_code] : undefined;
    const byCode = error.code ? CARD_CODES[error.code] : undefined;
    const code = byDecline ?? byCode ?? 'card_declined';
    return new StripeCallError(
      operation,
      code === 'authentication_required' ? 'authentication_required' : 'card',
      code,
      detail,
    );
  }
  if (error instanceof Stripe.errors.StripeRateLimitError) {
    return new StripeCallError(operation, 'rate_limited', 'payment_provider_rate_limited', detail);
  }
  if (error instanceof Stripe.errors.StripeConnectionError || error instanceof Stripe.errors.StripeAPIError) {
    return new StripeCallError(operation, 'unavailable', 'payment_provider_unavailable', detail);
  }
  if (error instanceof Stripe.errors.StripeIdempotencyError) {
    return new StripeCallError(operation, 'idempotency', 'payment_provider_error', detail);
  }
  if (
    error instanceof Stripe.errors.StripeAuthenticationError ||
    error instanceof Stripe.errors.StripePermissionError
  ) {
    return new StripeCallError(operation, 'configuration', 'payment_provider_error', detail);
  }
  if (error instanceof Stripe.errors.StripeInvalidRequestError) {
    if (error.code === 'resource_missing')
      return new StripeCallError(operation, 'not_found', 'payment_provider_error', detail);
    if (error.code === 'authentication_required') {
      return new StripeCallError(operation, 'authentication_required', 'authentication_required', detail);
    }
    return new StripeCallError(operation, 'invalid_request', 'payment_provider_error', detail);
  }
  if ((error.statusCode ?? 0) >= 500)
    return new StripeCallError(operation, 'unavailable', 'payment_provider_unavailable', detail);
  return new StripeCallError(operation, 'invalid_request', 'payment_provider_error', detail);
}
