import type { DomainRejection } from '@billing/domain';
import type { StripeCallError } from '../stripe/stripe-errors.js';
import { API_ERROR_STATUS, type ApiErrorCode } from './error-codes.js';

/** An expected refusal with a stable code; the global filter renders it in the one error shape (R-API-3). */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly options: {
      param?: string;
      details?: Record<string, unknown>;
      /**
       * The request executed before this outcome (e.g. a charge that a card declined): its Idempotency-Key
       * keeps it. Refusals before executing (the default for a 4xx other than 402) are not kept.
       */
      executed?: boolean;
    } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERROR_STATUS[code];
  }

  /** A failed Stripe call, with its stable code and a friendly message (decline code in details). */
  static fromStripe(failure: StripeCallError): ApiError {
    return new ApiError(failure.code, failure.friendlyMessage, {
      ...(failure.detail.declineCode ? { details: { decline_code: failure.detail.declineCode } } : {}),
    });
  }

  /** A business refusal of the domain, sent with its own code, message and details. */
  static fromRejection(rejection: DomainRejection, param?: string): ApiError {
    return new ApiError(rejection.code, rejection.message, {
      ...(param !== undefined ? { param } : {}),
      ...(rejection.details !== undefined ? { details: rejection.details } : {}),
    });
  }
}

/** The error body every endpoint returns (R-API-3). */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    param?: string;
    details?: Record<string, unknown>;
    request_id: string;
  };
}

/** A stored response replayed verbatim (idempotency): the filter sends it as it was first sent. */
export class ReplayedErrorResponse extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super('replayed error response');
  }
}
