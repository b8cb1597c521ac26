import { DOMAIN_ERROR_CODES, rejection } from '@billing/domain';
import {
  BadRequestException,
  HttpException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { classifyStripeError } from '../stripe/stripe-errors.js';
import { ApiError, ReplayedErrorResponse } from './api-error.js';
import { API_ERROR_STATUS, PLATFORM_ERROR_CODES } from './error-codes.js';
import { renderError } from './error-response.js';

describe('renderError (R-API-3)', () => {
  it('gives every platform and domain code an HTTP status, 4xx for every business refusal', () => {
    for (const code of [...PLATFORM_ERROR_CODES, ...DOMAIN_ERROR_CODES])
      expect(API_ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
    for (const code of DOMAIN_ERROR_CODES) expect(API_ERROR_STATUS[code]).toBeLessThan(500);
  });

  it('renders a domain rejection with its code, message and details', () => {
    const r = renderError(
      ApiError.fromRejection(
        rejection('downgrade_blocked_by_seats', 'Remove 3 members first.', { membersToRemove: 3 }),
      ),
      'req-1',
    );
    expect(r).toEqual({
      status: 409,
      internal: false,
      body: {
        error: {
          code: 'downgrade_blocked_by_seats',
          message: 'Remove 3 members first.',
          details: { membersToRemove: 3 },
          request_id: 'req-1',
        },
      },
    });
  });

  it('never leaks the message of an unexpected error', () => {
    const r = renderError(new Error('password=hunter2 at db.internal:5432'), 'req-2');
    expect(r.status).toBe(500);
    expect(r.internal).toBe(true);
    expect(JSON.stringify(r.body)).not.toContain('hunter2');
    expect(JSON.stringify(r.body)).toContain('internal_error');
  });

  it('maps Nest HTTP exceptions to stable codes', () => {
    expect(renderError(new NotFoundException('Cannot GET /x'), 'r').body).toMatchObject({
      error: { code: 'not_found' },
    });
    expect(
      renderError(new BadRequestException('Validation failed (uuid is expected)'), 'r').body,
    ).toMatchObject({
      error: { code: 'validation_failed', message: 'Validation failed (uuid is expected)' },
    });
    expect(renderError(new HttpException('teapot', 418), 'r').body).toMatchObject({
      error: { code: 'validation_failed' },
    });
    const unavailable = renderError(
      new ServiceUnavailableException({ status: 'error', details: { redis: { status: 'down' } } }),
      'r',
    );
    expect(unavailable.status).toBe(503);
    expect(unavailable.body).toMatchObject({
      error: { code: 'service_unavailable', details: { details: { redis: { status: 'down' } } } },
    });
  });

  it.each([
    [
      'Stripe unreachable',
      new Stripe.errors.StripeConnectionError({ message: 'connect ECONNREFUSED 10.0.0.7:443' }),
      503,
      'payment_provider_unavailable',
      false,
    ],
    [
      'Stripe 500',
      Stripe.errors.StripeError.generate({ statusCode: 500, type: 'api_error', message: 'boom req_123' }),
      503,
      'payment_provider_unavailable',
      false,
    ],
    [
      'Stripe throttling',
      Stripe.errors.StripeError.generate({ statusCode: 429, code: 'rate_limit', message: 'slow down' }),
      503,
      'payment_provider_rate_limited',
      false,
    ],
    [
      'a bad API key',
      Stripe.errors.StripeError.generate({ statusCode: 401, message: 'Invalid API Key sk_live_abc123' }),
      502,
      'payment_provider_error',
      true,
    ],
    [
      'a missing object',
      Stripe.errors.StripeError.generate({
        statusCode: 404,
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: "No such customer: 'cus_internal'",
      }),
      502,
      'payment_provider_error',
      true,
    ],
  ])(
    'renders a Stripe failure (%s) outside any use case with its mapped code, never 500 or its text',
    (_name, sdkError, status, code, internal) => {
      const r = renderError(classifyStripeError('setup_intent.create', sdkError), 'req-s');
      expect({ status: r.status, internal: r.internal }).toEqual({ status, internal });
      expect(r.body).toEqual({
        error: { code, message: expect.stringMatching(/payment provider/), request_id: 'req-s' },
      });
      expect(JSON.stringify(r.body)).not.toMatch(
        /ECONNREFUSED|10\.0\.0\.7|req_123|sk_live|cus_internal|boom/,
      );
    },
  );

  it('renders a card failure outside a payment as 402 with its decline code', () => {
    const r = renderError(
      classifyStripeError(
        'setup_intent.create',
        Stripe.errors.StripeError.generate({
          statusCode: 402,
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'insufficient_funds',
        }),
      ),
      'r',
    );
    expect(r).toMatchObject({
      status: 402,
      internal: false,
      body: { error: { code: 'insufficient_funds', details: { decline_code: 'insufficient_funds' } } },
    });
  });

  it('renders Fastify parser errors as 4xx and replays stored responses verbatim', () => {
    expect(
      renderError(Object.assign(new Error('Unexpected end of JSON'), { statusCode: 400 }), 'r'),
    ).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', message: 'The request body could not be parsed.' } },
    });
    expect(renderError(Object.assign(new Error('too large'), { statusCode: 413 }), 'r').body).toMatchObject({
      error: { code: 'payload_too_large' },
    });
    const stored = { error: { code: 'validation_failed', message: 'x', request_id: 'first' } };
    expect(renderError(new ReplayedErrorResponse(400, stored), 'second')).toEqual({
      status: 400,
      body: stored,
      internal: false,
    });
  });
});
