import { describe, expect, it } from '@jest/globals';
import {
  DOMAIN_ERROR_CODES,
  DomainInvariantError,
  invariant,
  isDomainErrorCode,
  rejection,
} from './errors.js';
import { err, ok } from './result.js';

describe('Result', () => {
  it('wraps values and errors', () => {
    expect(ok(1)).toEqual({ ok: true, value: 1 });
    expect(err('x')).toEqual({ ok: false, error: 'x' });
  });
});

describe('domain errors', () => {
  it('keeps a closed list of unique snake_case codes, including those the HTTP layer maps', () => {
    expect(new Set(DOMAIN_ERROR_CODES).size).toBe(DOMAIN_ERROR_CODES.length);
    for (const code of DOMAIN_ERROR_CODES) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(DOMAIN_ERROR_CODES).toEqual(
      expect.arrayContaining([
        'invalid_transition',
        'trial_already_used',
        'trial_not_available',
        'outstanding_balance',
        'seat_limit_reached',
        'downgrade_blocked_by_seats',
        'currency_mismatch',
        'invalid_amount',
        'unsupported_currency',
        'refund_exceeds_remaining',
        'refund_window_expired',
        'payment_not_refundable',
        'refund_currency_mismatch',
        'billing_disabled',
        'plan_not_found',
        'same_plan',
      ]),
    );
    expect(isDomainErrorCode('same_plan')).toBe(true);
    expect(isDomainErrorCode('card_declined')).toBe(false);
    expect(isDomainErrorCode(42)).toBe(false);
  });

  it('builds rejections with and without details', () => {
    expect(rejection('same_plan', 'already')).toEqual({ code: 'same_plan', message: 'already' });
    expect(rejection('plan_not_found', 'no', { planId: 'x' })).toEqual({
      code: 'plan_not_found',
      message: 'no',
      details: { planId: 'x' },
    });
  });

  it('throws DomainInvariantError from invariant()', () => {
    expect(() => invariant(true, 'fine')).not.toThrow();
    const error = (() => {
      try {
        invariant(false, 'broken', { id: 1 });
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DomainInvariantError);
    expect(error).toMatchObject({ name: 'DomainInvariantError', message: 'broken', details: { id: 1 } });
  });
});
