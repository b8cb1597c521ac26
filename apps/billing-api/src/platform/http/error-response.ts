import { HttpException, HttpStatus } from '@nestjs/common';
import { ApiError, ReplayedErrorResponse, type ErrorBody } from './api-error.js';
import { StripeCallError } from '../stripe/stripe-errors.js';
import type { ApiErrorCode } from './error-codes.js';

export interface RenderedError {
  status: number;
  body: unknown;
  /** True when this is a server fault that must be logged with its stack. */
  internal: boolean;
}

const UNAVAILABLE: number = HttpStatus.SERVICE_UNAVAILABLE;

const BY_STATUS: Partial<Record<number, ApiErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: 'validation_failed',
  [HttpStatus.UNAUTHORIZED]: 'unauthenticated',
  [HttpStatus.FORBIDDEN]: 'forbidden',
  [HttpStatus.NOT_FOUND]: 'not_found',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'method_not_allowed',
  [HttpStatus.CONFLICT]: 'conflict',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'payload_too_large',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'unsupported_media_type',
  [HttpStatus.TOO_MANY_REQUESTS]: 'rate_limited',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'service_unavailable',
};

const PUBLIC_MESSAGE: Partial<Record<ApiErrorCode, string>> = {
  unauthenticated: 'A valid bearer token is required.',
  forbidden: 'Your role does not allow this action.',
  not_found: 'The resource was not found.',
  method_not_allowed: 'This method is not allowed on this resource.',
  rate_limited: 'Too many requests; slow down and retry later.',
  service_unavailable: 'A dependency is unavailable; retry later.',
  internal_error: 'An internal error occurred; it has been logged.',
};

function body(
  code: ApiErrorCode,
  message: string,
  requestId: string,
  extra: { param?: string; details?: Record<string, unknown> } = {},
): ErrorBody {
  return {
    error: {
      code,
      message,
      ...(extra.param !== undefined ? { param: extra.param } : {}),
      ...(extra.details !== undefined ? { details: extra.details } : {}),
      request_id: requestId,
    },
  };
}

/**
 * Maps anything thrown while handling a request to the one error shape (R-API-3). Internal messages
 * never reach the client: a 5xx says only that it was logged.
 */
export function renderError(exception: unknown, requestId: string): RenderedError {
  if (exception instanceof ReplayedErrorResponse) {
    return { status: exception.status, body: exception.body, internal: false };
  }
  if (exception instanceof ApiError) {
    return {
      status: exception.status,
      body: body(exception.code, exception.message, requestId, exception.options),
      internal: exception.status >= 500,
    };
  }
  if (exception instanceof StripeCallError) {
    // A Stripe failure no use case turned into a result (setup intents, customers, defaults, …): its
    // stable code and friendly message, never Stripe's own text. Stripe being down or throttling us is
    // logged by the gateway already; a refused request (our bug or configuration) is logged here too.
    const mapped = ApiError.fromStripe(exception);
    return {
      status: mapped.status,
      body: body(mapped.code, mapped.message, requestId, mapped.options),
      internal: exception.kind !== 'unavailable' && exception.kind !== 'rate_limited' && mapped.status >= 500,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'validation_failed');
    const response = exception.getResponse();
    let message = PUBLIC_MESSAGE[code] ?? exception.message;
    let details: Record<string, unknown> | undefined;
    if (status === UNAVAILABLE && typeof response === 'object' && response !== null) {
      // Terminus puts the health of each dependency here; it names no secrets.
      details = response as Record<string, unknown>;
    } else if (status < 500 && typeof response === 'object' && response !== null && 'message' in response) {
      const m = response.message;
      if (typeof m === 'string') message = m;
    }
    if (status >= 500 && status !== UNAVAILABLE) message = PUBLIC_MESSAGE.internal_error ?? '';
    return {
      status,
      body: body(code, message, requestId, details ? { details } : {}),
      internal: status >= 500 && status !== UNAVAILABLE,
    };
  }
  // Fastify's own errors (bad JSON, body too large, wrong content type) carry a 4xx statusCode.
  const fastifyStatus = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    const code = BY_STATUS[fastifyStatus] ?? 'validation_failed';
    const message =
      code === 'validation_failed'
        ? 'The request body could not be parsed.'
        : (PUBLIC_MESSAGE[code] ?? 'Bad request.');
    return { status: fastifyStatus, body: body(code, message, requestId), internal: false };
  }
  return {
    status: 500,
    body: body('internal_error', PUBLIC_MESSAGE.internal_error ?? '', requestId),
    internal: true,
  };
}
