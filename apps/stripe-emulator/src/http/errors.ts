export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export interface StripeErrorFields {
  status: number;
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  /** Extra fields rendered inside `error` (e.g. `payment_intent`, `payment_method`, `setup_intent`, `charge`). */
  extra?: Record<string, unknown>;
  /** Extra response headers (e.g. `stripe-should-retry`). */
  headers?: Record<string, string>;
}

/** An error rendered as Stripe renders it: `{ error: { type, code, decline_code, message, param, ... } }`. */
export class StripeApiError extends Error {
  readonly status: number;
  readonly type: StripeErrorType;
  readonly code: string | undefined;
  readonly decline_code: string | undefined;
  readonly param: string | undefined;
  readonly doc_url: string | undefined;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(fields: StripeErrorFields) {
    super(fields.message);
    this.name = 'StripeApiError';
    this.status = fields.status;
    this.type = fields.type;
    this.code = fields.code;
    this.decline_code = fields.decline_code;
    this.param = fields.param;
    this.doc_url =
      fields.doc_url ??
      (fields.code ? `https://stripe.com/docs/error-codes/${fields.code.replace(/_/g, '-')}` : undefined);
    this.extra = fields.extra ?? {};
    this.headers = fields.headers ?? {};
  }

  toBody(requestId?: string): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { type: this.type, message: this.message };
    if (this.code !== undefined) error.code = this.code;
    if (this.decline_code !== undefined) error.decline_code = this.decline_code;
    if (this.param !== undefined) error.param = this.param;
    if (this.doc_url !== undefined) error.doc_url = this.doc_url;
    if (requestId) error.request_log_url = `https://dashboard.stripe.com/test/logs/${requestId}`;
    Object.assign(error, this.extra);
    return { error };
  }
}

/** 400 `invalid_request_error`, with the offending parameter when there is one. */
export function invalidRequest(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError({ status: 400, type: 'invalid_request_error', message, param, code });
}

/** 400 `parameter_missing`. */
export function missingParam(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, param, 'parameter_missing');
}

/** 404 `resource_missing`: `No such customer: 'cus_123'`. */
export function resourceMissing(resource: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError({
    status: 404,
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${resource}: '${id}'`,
    param,
  });
}

export interface CardErrorOptions {
  code: string;
  declineCode?: string;
  message: string;
  param?: string;
  /** The PaymentIntent / SetupIntent / charge / payment method the failure belongs to (rendered in `error`). */
  extra?: Record<string, unknown>;
}

/** 402 `card_error` with `code` and `decline_code` (the SDK raises `StripeCardError`). */
export function cardError(options: CardErrorOptions): StripeApiError {
  return new StripeApiError({
    status: 402,
    type: 'card_error',
    code: options.code,
    decline_code: options.declineCode,
    message: options.message,
    param: options.param,
    extra: options.extra,
  });
}

/** 400 `idempotency_error` (key reused with other parameters). */
export function idempotencyMismatch(key: string): StripeApiError {
  return new StripeApiError({
    status: 400,
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

/** 409 while the first request with this key is still running; the SDK retries 409s. */
export function idempotencyInFlight(): StripeApiError {
  return new StripeApiError({
    status: 409,
    type: 'idempotency_error',
    code: 'idempotency_key_in_use',
    message:
      'There is currently another in-progress request using this Idempotency-Key. Please try again later.',
    headers: { 'stripe-should-retry': 'true' },
  });
}

/** 401: no or unusable API key. */
export function authenticationError(message: string): StripeApiError {
  return new StripeApiError({ status: 401, type: 'invalid_request_error', message });
}

/** 429 `rate_limit` (the SDK raises `StripeRateLimitError`). */
export function rateLimited(): StripeApiError {
  return new StripeApiError({
    status: 429,
    type: 'invalid_request_error',
    code: 'rate_limit',
    message:
      'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
  });
}

/** 500 `api_error`. */
export function apiError(
  message = 'An unknown error occurred (emulator chaos: injected failure).',
): StripeApiError {
  return new StripeApiError({ status: 500, type: 'api_error', message });
}

/** 400 for a state transition Stripe refuses (`payment_intent_unexpected_state` and friends). */
export function unexpectedState(
  message: string,
  code: string,
  extra?: Record<string, unknown>,
): StripeApiError {
  return new StripeApiError({ status: 400, type: 'invalid_request_error', code, message, extra });
}
