import type { DomainErrorCode } from '@billing/domain';
import { HttpStatus } from '@nestjs/common';
import type { StripeErrorCode } from '../stripe/stripe-errors.js';

/**
 * The closed set of error codes the API returns (R-API-3). Adding a code without an HTTP status in
 * {@link API_ERROR_STATUS} does not compile.
 */
export const PLATFORM_ERROR_CODES = [
  'validation_failed',
  'card_data_forbidden',
  'idempotency_key_required',
  'idempotency_key_invalid',
  'idempotency_key_reused',
  'idempotency_request_in_progress',
  'idempotency_key_in_use',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'account_suspended',
  'internal_error',
  'service_unavailable',
  'invalid_signature',
  'invalid_unsubscribe_token',
  'template_not_unsubscribable',
  'notification_not_failed',
  'invalid_encoding',
  'body_too_deep',
  'method_not_allowed',
  'integration_target_forbidden',
  'quote_mismatch',
] as const;

export type PlatformErrorCode = (typeof PLATFORM_ERROR_CODES)[number];
/** Platform codes plus every business refusal of the domain (libs/domain DOMAIN_ERROR_CODES). */
export type ApiErrorCode = PlatformErrorCode | DomainErrorCode | StripeErrorCode;

export const API_ERROR_STATUS = {
  validation_failed: HttpStatus.BAD_REQUEST,
  card_data_forbidden: HttpStatus.BAD_REQUEST,
  idempotency_key_required: HttpStatus.BAD_REQUEST,
  idempotency_key_invalid: HttpStatus.BAD_REQUEST,
  idempotency_key_reused: HttpStatus.CONFLICT,
  idempotency_request_in_progress: HttpStatus.CONFLICT,
  // The key's first request ended without an answer after it may have executed (issue 16): never run
  // again; answered from its resource once the outcome is known.
  idempotency_key_in_use: HttpStatus.CONFLICT,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  payload_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  unsupported_media_type: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  account_suspended: HttpStatus.FORBIDDEN,
  internal_error: HttpStatus.INTERNAL_SERVER_ERROR,
  service_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  invalid_signature: HttpStatus.BAD_REQUEST,
  // Notification opt-outs (R-NOT-3): a forged or altered unsubscribe link; a transactional template
  // (receipts, refunds, dunning), which is always sent and cannot be unsubscribed.
  invalid_unsubscribe_token: HttpStatus.BAD_REQUEST,
  template_not_unsubscribable: HttpStatus.UNPROCESSABLE_ENTITY,
  notification_not_failed: HttpStatus.CONFLICT,
  // Bodies the parser refuses before anything reads them: bytes that are not UTF-8 or strings that
  // cannot be stored as UTF-8 (lone surrogates); JSON nested deeper than any of our schemas.
  invalid_encoding: HttpStatus.BAD_REQUEST,
  body_too_deep: HttpStatus.BAD_REQUEST,
  method_not_allowed: HttpStatus.METHOD_NOT_ALLOWED,
  // An integration endpoint URL that resolves to a private, loopback or link-local address (SSRF).
  integration_target_forbidden: HttpStatus.UNPROCESSABLE_ENTITY,
  // Business refusals: 409 when the state of the account forbids it now, 422 when the request can never
  // succeed as asked, 400 for malformed amounts and currencies.
  invalid_transition: HttpStatus.CONFLICT,
  trial_already_used: HttpStatus.CONFLICT,
  trial_not_available: HttpStatus.UNPROCESSABLE_ENTITY,
  outstanding_balance: HttpStatus.CONFLICT,
  seat_limit_reached: HttpStatus.CONFLICT,
  seat_addon_unavailable: HttpStatus.UNPROCESSABLE_ENTITY,
  downgrade_blocked_by_seats: HttpStatus.CONFLICT,
  same_plan: HttpStatus.CONFLICT,
  plan_not_found: HttpStatus.UNPROCESSABLE_ENTITY,
  quote_expired: HttpStatus.CONFLICT,
  quote_stale: HttpStatus.CONFLICT,
  quote_already_applied: HttpStatus.CONFLICT,
  // A quote given to another change than the one it priced (`PUT /v1/subscription/seats` with a plan
  // change's quote, or one for another seat count).
  quote_mismatch: HttpStatus.CONFLICT,
  no_outstanding_invoice: HttpStatus.CONFLICT,
  grace_period_active: HttpStatus.CONFLICT,
  currency_mismatch: HttpStatus.UNPROCESSABLE_ENTITY,
  invalid_amount: HttpStatus.BAD_REQUEST,
  amount_too_small: HttpStatus.BAD_REQUEST,
  amount_too_large: HttpStatus.BAD_REQUEST,
  unsupported_currency: HttpStatus.BAD_REQUEST,
  refund_exceeds_remaining: HttpStatus.CONFLICT,
  refund_window_expired: HttpStatus.UNPROCESSABLE_ENTITY,
  payment_not_refundable: HttpStatus.UNPROCESSABLE_ENTITY,
  refund_currency_mismatch: HttpStatus.UNPROCESSABLE_ENTITY,
  // R-PLAN-5: an account that is not billed gets full access and no billing calls.
  billing_disabled: HttpStatus.CONFLICT,
  // Members and ownership transfer (R-PLAN-3, R-SUB-9).
  member_already_exists: HttpStatus.CONFLICT,
  owner_not_removable: HttpStatus.CONFLICT,
  ownership_transfer_not_owner: HttpStatus.FORBIDDEN,
  ownership_transfer_invalid_target: HttpStatus.UNPROCESSABLE_ENTITY,
  ownership_transfer_used: HttpStatus.CONFLICT,
  ownership_transfer_expired: HttpStatus.GONE,
  ownership_transfer_wrong_user: HttpStatus.FORBIDDEN,
  ownership_transfer_stale: HttpStatus.CONFLICT,
  // Stripe failures (R-PAY-5): card problems are 402 like Stripe's own; Stripe being unreachable or
  // throttling us is our dependency's trouble (503), a refused request is a bad gateway (502).
  card_declined: HttpStatus.PAYMENT_REQUIRED,
  insufficient_funds: HttpStatus.PAYMENT_REQUIRED,
  expired_card: HttpStatus.PAYMENT_REQUIRED,
  incorrect_cvc: HttpStatus.PAYMENT_REQUIRED,
  incorrect_number: HttpStatus.PAYMENT_REQUIRED,
  processing_error: HttpStatus.PAYMENT_REQUIRED,
  authentication_required: HttpStatus.PAYMENT_REQUIRED,
  payment_provider_rate_limited: HttpStatus.SERVICE_UNAVAILABLE,
  payment_provider_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  payment_provider_error: HttpStatus.BAD_GATEWAY,
} as const satisfies Record<ApiErrorCode, HttpStatus>;

export function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === 'string' && Object.hasOwn(API_ERROR_STATUS, value);
}
