import type { ApiErrorCode } from '../../../platform/http/error-codes.js';
import { IDEMPOTENCY_ERRORS } from '../../../platform/idempotency/idempotent.decorator.js';

/**
 * What every seat change may answer beyond its own refusals (R-PLAN-3): the seat rules of the machine,
 * a declined card for bought seats (nothing changes), Stripe being unreachable, the Idempotency-Key.
 */
export const SEAT_CHANGE_ERRORS = [
  'validation_failed',
  'forbidden',
  'not_found',
  'invalid_transition',
  'seat_addon_unavailable',
  'outstanding_balance',
  'card_declined',
  'insufficient_funds',
  'expired_card',
  'authentication_required',
  'processing_error',
  'card_data_forbidden',
  'service_unavailable',
  'payment_provider_unavailable',
  'payment_provider_rate_limited',
  'payment_provider_error',
  ...IDEMPOTENCY_ERRORS,
] as const satisfies readonly ApiErrorCode[];
