import { describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { ApiError } from '../http/api-error.js';
import { API_ERROR_STATUS } from '../http/error-codes.js';
import {
  classifyStripeError,
  STRIPE_ERROR_CODES,
  StripeCallError,
  type StripeErrorCode,
  type StripeFailureKind,
} from './stripe-errors.js';

/** Stripe's raw error as the SDK builds it from a response, typed by the SDK itself. */
type Raw = NonNullable<ConstructorParameters<typeof Stripe.errors.StripeError>[0]>;

/** What the SDK throws for an error response: `generate` picks the class from the status, as on the wire. */
const fromResponse = (raw: Raw): Stripe.errors.StripeError =>
  Stripe.errors.StripeError.generate({
    message: 'Stripe says: No such customer: cus_SECRET123; see req_abc',
    requestId: 'req_test',
    ...raw,
  });
const card = (code: string, decline_code?: string): Stripe.errors.StripeError =>
  fromResponse({
    statusCode: 402,
    type: 'card_error',
    code,
    ...(decline_code ? { decline_code } : {}),
  });

interface Expected {
  sdkClass: new (...args: never[]) => Stripe.errors.StripeError;
  kind: StripeFailureKind;
  code: StripeErrorCode;
  status: number;
  outcomeUnknown: boolean;
  declineCode?: string;
}

const E = Stripe.errors;
const declined = (code: StripeErrorCode, declineCode?: string): Omit<Expected, 'sdkClass'> => ({
  kind: code === 'authentication_required' ? 'authentication_required' : 'card',
  code,
  status: 402,
  outcomeUnknown: false,
  ...(declineCode ? { declineCode } : {}),
});

// One row per shape Stripe answers with (R-PAY-5): the SDK's own error class, our kind, code and status.
const TABLE: [string, () => Stripe.errors.StripeError, Expected][] = [
  [
    'generic decline',
    () => card('card_declined', 'generic_decline'),
    { sdkClass: E.StripeCardError, ...declined('card_declined', 'generic_decline') },
  ],
  [
    'lost card (a generic decline to the client)',
    () => card('card_declined', 'lost_card'),
    { sdkClass: E.StripeCardError, ...declined('card_declined', 'lost_card') },
  ],
  [
    'stolen card (a generic decline to the client)',
    () => card('card_declined', 'stolen_card'),
    { sdkClass: E.StripeCardError, ...declined('card_declined', 'stolen_card') },
  ],
  [
    'unknown decline code',
    () => card('card_declined', 'do_not_honor'),
    { sdkClass: E.StripeCardError, ...declined('card_declined', 'do_not_honor') },
  ],
  [
    'insufficient funds',
    () => card('card_declined', 'insufficient_funds'),
    { sdkClass: E.StripeCardError, ...declined('insufficient_funds', 'insufficient_funds') },
  ],
  [
    'expired card',
    () => card('expired_card', 'expired_card'),
    { sdkClass: E.StripeCardError, ...declined('expired_card', 'expired_card') },
  ],
  [
    'expired card without a decline code',
    () => card('expired_card'),
    { sdkClass: E.StripeCardError, ...declined('expired_card') },
  ],
  [
    'incorrect CVC',
    () => card('incorrect_cvc', 'incorrect_cvc'),
    { sdkClass: E.StripeCardError, ...declined('incorrect_cvc', 'incorrect_cvc') },
  ],
  [
    'invalid CVC (alias)',
    () => card('invalid_cvc'),
    { sdkClass: E.StripeCardError, ...declined('incorrect_cvc') },
  ],
  [
    'incorrect number',
    () => card('incorrect_number'),
    { sdkClass: E.StripeCardError, ...declined('incorrect_number') },
  ],
  [
    'invalid number (alias)',
    () => card('invalid_number'),
    { sdkClass: E.StripeCardError, ...declined('incorrect_number') },
  ],
  [
    'processing error',
    () => card('processing_error', 'processing_error'),
    { sdkClass: E.StripeCardError, ...declined('processing_error', 'processing_error') },
  ],
  [
    'authentication required (decline code)',
    () => card('card_declined', 'authentication_required'),
    { sdkClass: E.StripeCardError, ...declined('authentication_required', 'authentication_required') },
  ],
  [
    'authentication required (error code, off session)',
    () => card('authentication_required'),
    { sdkClass: E.StripeCardError, ...declined('authentication_required') },
  ],
  [
    '429 rate limit',
    () => fromResponse({ statusCode: 429, type: 'invalid_request_error', code: 'rate_limit' }),
    {
      sdkClass: E.StripeRateLimitError,
      kind: 'rate_limited',
      code: 'payment_provider_rate_limited',
      status: 503,
      outcomeUnknown: false,
    },
  ],
  [
    '400 rate_limit (lock contention)',
    () => fromResponse({ statusCode: 400, type: 'invalid_request_error', code: 'rate_limit' }),
    {
      sdkClass: E.StripeRateLimitError,
      kind: 'rate_limited',
      code: 'payment_provider_rate_limited',
      status: 503,
      outcomeUnknown: false,
    },
  ],
  [
    '500 api_error',
    () => fromResponse({ statusCode: 500, type: 'api_error' }),
    {
      sdkClass: E.StripeAPIError,
      kind: 'unavailable',
      code: 'payment_provider_unavailable',
      status: 503,
      outcomeUnknown: true,
    },
  ],
  [
    '503 without a body type',
    () => fromResponse({ statusCode: 503 }),
    {
      sdkClass: E.StripeAPIError,
      kind: 'unavailable',
      code: 'payment_provider_unavailable',
      status: 503,
      outcomeUnknown: true,
    },
  ],
  [
    '409 idempotency key in use (the first request may still act)',
    () => fromResponse({ statusCode: 409, type: 'idempotency_error', code: 'idempotency_key_in_use' }),
    {
      sdkClass: E.StripeAPIError,
      kind: 'unavailable',
      code: 'payment_provider_unavailable',
      status: 503,
      outcomeUnknown: true,
    },
  ],
  [
    'connection refused',
    () =>
      new E.StripeConnectionError({
        message: 'An error occurred with our connection to Stripe. Request was retried 2 times.',
      }),
    {
      sdkClass: E.StripeConnectionError,
      kind: 'unavailable',
      code: 'payment_provider_unavailable',
      status: 503,
      outcomeUnknown: true,
    },
  ],
  [
    'timeout',
    () => new E.StripeConnectionError({ message: 'Request aborted due to timeout being reached (400ms)' }),
    {
      sdkClass: E.StripeConnectionError,
      kind: 'unavailable',
      code: 'payment_provider_unavailable',
      status: 503,
      outcomeUnknown: true,
    },
  ],
  [
    '400 idempotency_error (key reused with other parameters)',
    () => fromResponse({ statusCode: 400, type: 'idempotency_error' }),
    {
      sdkClass: E.StripeIdempotencyError,
      kind: 'idempotency',
      code: 'payment_provider_error',
      status: 502,
      outcomeUnknown: false,
    },
  ],
  [
    '401 authentication error (bad key)',
    () => fromResponse({ statusCode: 401, type: 'invalid_request_error' }),
    {
      sdkClass: E.StripeAuthenticationError,
      kind: 'configuration',
      code: 'payment_provider_error',
      status: 502,
      outcomeUnknown: false,
    },
  ],
  [
    '403 permission error (restricted key)',
    () => fromResponse({ statusCode: 403, type: 'invalid_request_error' }),
    {
      sdkClass: E.StripePermissionError,
      kind: 'configuration',
      code: 'payment_provider_error',
      status: 502,
      outcomeUnknown: false,
    },
  ],
  [
    '404 resource_missing',
    () =>
      fromResponse({
        statusCode: 404,
        type: 'invalid_request_error',
        code: 'resource_missing',
        param: 'id',
      }),
    {
      sdkClass: E.StripeInvalidRequestError,
      kind: 'not_found',
      code: 'payment_provider_error',
      status: 502,
      outcomeUnknown: false,
    },
  ],
  [
    '400 parameter refused',
    () =>
      fromResponse({
        statusCode: 400,
        type: 'invalid_request_error',
        code: 'parameter_invalid_integer',
        param: 'amount',
      }),
    {
      sdkClass: E.StripeInvalidRequestError,
      kind: 'invalid_request',
      code: 'payment_provider_error',
      status: 502,
      outcomeUnknown: false,
    },
  ],
];

describe('classifyStripeError: Stripe error -> kind, code, status (R-PAY-5)', () => {
  it.each(TABLE)('%s', (_name, make, expected) => {
    const error = make();
    // The row's input is the SDK's own class, as thrown for that response.
    expect(error).toBeInstanceOf(expected.sdkClass);
    const failure = classifyStripeError('payment.create', error);
    expect(failure).toBeInstanceOf(StripeCallError);
    expect({ kind: failure.kind, code: failure.code, outcomeUnknown: failure.outcomeUnknown }).toEqual({
      kind: expected.kind,
      code: expected.code,
      outcomeUnknown: expected.outcomeUnknown,
    });
    expect(failure.detail.declineCode).toBe(expected.declineCode);
    // Stripe's request id is kept for the logs (a connection error has none).
    expect(failure.detail.requestId).toBe(error instanceof E.StripeConnectionError ? undefined : 'req_test');

    const api = ApiError.fromStripe(failure);
    expect(api.status).toBe(expected.status);
    expect(api.code).toBe(expected.code);
    // The friendly message, never Stripe's text (it may name objects and request ids).
    expect(api.message).toBe(failure.friendlyMessage);
    expect(api.message).not.toMatch(/cus_SECRET|req_|Stripe says|timeout being reached|connection to Stripe/);
    expect(api.options.details).toEqual(
      expected.declineCode ? { decline_code: expected.declineCode } : undefined,
    );
  });

  it('treats anything that is not a Stripe error as outcome unknown, and keeps a classified error as is', () => {
    const failure = classifyStripeError('customer.create', new TypeError('socket hang up'));
    expect([failure.kind, failure.code, failure.outcomeUnknown]).toEqual([
      'unavailable',
      'payment_provider_unavailable',
      true,
    ]);
    expect(classifyStripeError('other', failure)).toBe(failure);
  });

  it('gives every code a friendly message and a status: 402 for the card, 5xx for the provider', () => {
    const messages = STRIPE_ERROR_CODES.map(
      (code) => new StripeCallError('x', 'card', code, {}).friendlyMessage,
    );
    expect(messages.every((m) => m.length > 10)).toBe(true);
    expect(new Set(messages).size).toBe(STRIPE_ERROR_CODES.length);
    const statuses = Object.fromEntries(STRIPE_ERROR_CODES.map((code) => [code, API_ERROR_STATUS[code]]));
    expect(statuses).toEqual({
      card_declined: 402,
      insufficient_funds: 402,
      expired_card: 402,
      incorrect_cvc: 402,
      incorrect_number: 402,
      processing_error: 402,
      authentication_required: 402,
      payment_provider_rate_limited: 503,
      payment_provider_unavailable: 503,
      payment_provider_error: 502,
    });
    expect(
      new StripeCallError('x', 'card', 'insufficient_funds', { declineCode: 'insufficient_funds' })
        .friendlyMessage,
    ).toMatch(/insufficient funds/);
  });
});
