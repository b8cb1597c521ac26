import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CURRENCY_EXPONENTS, THREE_DECIMAL_CURRENCIES, ZERO_DECIMAL_CURRENCIES } from '../money/currency.js';
import { money } from '../money/money.js';
import { DomainInvariantError } from '../kernel/errors.js';
import {
  chargeAmountStep,
  checkChargeAmount,
  STRIPE_MAXIMUM_CHARGE_AMOUNT,
  STRIPE_MINIMUM_CHARGE_AMOUNTS,
  stripeChargeLimits,
} from './charge-amount.js';
import {
  isReservedPaymentMetadataKey,
  MAX_PAYMENT_METADATA_KEYS,
  RESERVED_PAYMENT_METADATA_KEYS,
  STRIPE_METADATA_MAX_KEYS,
} from './payment-metadata.js';

const CURRENCIES = Object.keys(CURRENCY_EXPONENTS);

/** The code (or 'ok') of a check, for compact tables. */
function outcome(amountMinor: number, currency: string, configured?: number): string {
  const result = checkChargeAmount(money(amountMinor, currency), configured);
  return result.ok ? 'ok' : result.error.code;
}

describe('Stripe charge limits table', () => {
  it('lists minimums only for supported currencies, as positive multiples of their step', () => {
    expect(Object.keys(STRIPE_MINIMUM_CHARGE_AMOUNTS).length).toBeGreaterThan(20);
    for (const [currency, minimum] of Object.entries(STRIPE_MINIMUM_CHARGE_AMOUNTS)) {
      expect({ currency, supported: Object.hasOwn(CURRENCY_EXPONENTS, currency) }).toEqual({
        currency,
        supported: true,
      });
      expect(Number.isSafeInteger(minimum) && minimum > 0).toBe(true);
      expect(minimum % chargeAmountStep(currency)).toBe(0);
    }
  });

  it('gives the published minimums in minor units, zero-decimal ones in whole units', () => {
    expect(stripeChargeLimits('usd').minimum).toBe(50);
    expect(stripeChargeLimits('gbp').minimum).toBe(30);
    expect(stripeChargeLimits('jpy').minimum).toBe(50);
    expect(stripeChargeLimits('krw').minimum).toBe(50);
    expect(stripeChargeLimits('huf').minimum).toBe(17_500);
    expect(stripeChargeLimits('mxn').minimum).toBe(1_000);
    expect(stripeChargeLimits('thb').minimum).toBe(1_000);
  });

  it('derives the step from the exponent table: 10 for every three-decimal currency, 100 for ISK and UGX', () => {
    for (const currency of CURRENCIES) {
      const expected = ['isk', 'ugx'].includes(currency)
        ? 100
        : THREE_DECIMAL_CURRENCIES.includes(currency)
          ? 10
          : 1;
      expect({ currency, step: chargeAmountStep(currency) }).toEqual({ currency, step: expected });
    }
    expect(THREE_DECIMAL_CURRENCIES).toEqual(['bhd', 'jod', 'kwd', 'omr', 'tnd']);
  });

  it('uses one step as the minimum where none is published, and eight digits as the maximum', () => {
    expect(stripeChargeLimits('KWD')).toEqual({
      currency: 'kwd',
      minimum: 10,
      maximum: 99_999_999,
      step: 10,
    });
    expect(stripeChargeLimits('isk')).toEqual({
      currency: 'isk',
      minimum: 100,
      maximum: 99_999_999,
      step: 100,
    });
    expect(stripeChargeLimits('vnd')).toEqual({ currency: 'vnd', minimum: 1, maximum: 99_999_999, step: 1 });
    expect(STRIPE_MAXIMUM_CHARGE_AMOUNT).toBe(99_999_999);
  });

  it('allows the longer maximums Stripe publishes for IDR, COP and INR', () => {
    expect(stripeChargeLimits('idr').maximum).toBe(999_999_999_999);
    expect(stripeChargeLimits('cop').maximum).toBe(9_999_999_999);
    expect(stripeChargeLimits('inr').maximum).toBe(999_999_999);
  });

  it('throws for a currency the exponent table does not know', () => {
    expect(() => stripeChargeLimits('xyz')).toThrow(DomainInvariantError);
    expect(() => chargeAmountStep('xyz')).toThrow(DomainInvariantError);
  });
});

describe('checkChargeAmount', () => {
  it.each([
    // [amount, currency, expected]
    [49, 'usd', 'amount_too_small'],
    [50, 'usd', 'ok'],
    [29, 'gbp', 'amount_too_small'],
    [30, 'gbp', 'ok'],
    [49, 'jpy', 'amount_too_small'],
    [50, 'jpy', 'ok'],
    [17_499, 'huf', 'amount_too_small'],
    [17_500, 'huf', 'ok'],
    [999, 'mxn', 'amount_too_small'],
    [1_000, 'mxn', 'ok'],
    [1, 'vnd', 'ok'],
    [1_005, 'kwd', 'invalid_amount'],
    [1_001, 'bhd', 'invalid_amount'],
    [1_009, 'jod', 'invalid_amount'],
    [1_010, 'omr', 'ok'],
    [1_000, 'tnd', 'ok'],
    [5, 'kwd', 'amount_too_small'],
    [10, 'kwd', 'ok'],
    [150, 'isk', 'invalid_amount'],
    [200, 'isk', 'ok'],
    [12_345, 'ugx', 'invalid_amount'],
    [12_300, 'ugx', 'ok'],
    [99_999_999, 'usd', 'ok'],
    [100_000_000, 'usd', 'amount_too_large'],
    [100_000_000, 'jpy', 'amount_too_large'],
    [99_999_990, 'kwd', 'ok'],
    [100_000_000, 'kwd', 'amount_too_large'],
    [999_999_999_999, 'idr', 'ok'],
    [1_000_000_000_000, 'idr', 'amount_too_large'],
    [9_999_999_999, 'cop', 'ok'],
    [10_000_000_000, 'cop', 'amount_too_large'],
    [999_999_999, 'inr', 'ok'],
    [1_000_000_000, 'inr', 'amount_too_large'],
    [0, 'usd', 'invalid_amount'],
    [-50, 'usd', 'invalid_amount'],
    [0, 'kwd', 'invalid_amount'],
  ])('%d %s -> %s', (amount, currency, expected) => {
    expect(outcome(amount, currency)).toBe(expected);
  });

  it('says which limit was broken, in minor units of the currency', () => {
    expect(checkChargeAmount(money(49, 'usd'))).toEqual({
      ok: false,
      error: {
        code: 'amount_too_small',
        message: "amount must be at least 50 minor units of usd (Stripe's minimum charge)",
        details: { amount: 49, currency: 'usd', minimum: 50 },
      },
    });
    expect(checkChargeAmount(money(100_000_000, 'usd'))).toMatchObject({
      ok: false,
      error: {
        code: 'amount_too_large',
        details: { amount: 100_000_000, currency: 'usd', maximum: 99_999_999, limit: 'stripe' },
      },
    });
    expect(checkChargeAmount(money(1_005, 'kwd'))).toMatchObject({
      ok: false,
      error: { code: 'invalid_amount', details: { amount: 1_005, currency: 'kwd', multipleOf: 10 } },
    });
    expect(checkChargeAmount(money(0, 'usd'))).toMatchObject({
      ok: false,
      error: { code: 'invalid_amount', details: { amount: 0, currency: 'usd' } },
    });
  });

  it('applies the configured maximum on top of Stripe’s, in minor units of the charge’s currency', () => {
    expect(outcome(1_000, 'usd', 1_000)).toBe('ok');
    expect(outcome(1_000, 'jpy', 1_000)).toBe('ok');
    expect(checkChargeAmount(money(1_001, 'jpy'), 1_000)).toMatchObject({
      ok: false,
      error: {
        code: 'amount_too_large',
        details: { amount: 1_001, currency: 'jpy', maximum: 1_000, limit: 'configured' },
      },
    });
    // A configured cap above Stripe's does not lift Stripe's.
    expect(checkChargeAmount(money(100_000_000, 'usd'), 500_000_000)).toMatchObject({
      ok: false,
      error: { code: 'amount_too_large', details: { maximum: 99_999_999, limit: 'stripe' } },
    });
  });

  it('returns the same Money when accepted', () => {
    const m = money(2_500, 'eur');
    expect(checkChargeAmount(m)).toEqual({ ok: true, value: m });
  });

  it('throws on a configured maximum that is not a positive safe integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => checkChargeAmount(money(100, 'usd'), bad)).toThrow(DomainInvariantError);
    }
  });

  it('property: accepted exactly when within [minimum, min(Stripe max, configured)] and a multiple of the step', () => {
    const amountArb = fc.oneof(
      fc.integer({ min: -100, max: 20_000 }),
      fc.integer({ min: 99_999_000, max: 100_001_000 }),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    );
    const configuredArb = fc.option(fc.integer({ min: 1, max: 2_000_000_000_000 }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.constantFrom(...CURRENCIES),
        amountArb,
        configuredArb,
        (currency, amount, configured) => {
          const limits = stripeChargeLimits(currency);
          const ceiling = Math.min(limits.maximum, configured ?? Number.MAX_SAFE_INTEGER);
          const result = checkChargeAmount(money(amount, currency), configured);
          // The rules the amount breaks, each by the code that names it.
          const broken = new Set<string>();
          if (amount <= 0 || amount % limits.step !== 0) broken.add('invalid_amount');
          if (amount > 0 && amount < limits.minimum) broken.add('amount_too_small');
          if (amount > ceiling) broken.add('amount_too_large');
          // Accepted exactly when nothing is broken; a refusal names a rule the amount really breaks.
          expect(result.ok ? 'ok' : broken.has(result.error.code)).toBe(broken.size === 0 ? 'ok' : true);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('property: a three-decimal amount is accepted iff it ends in 0, a zero-decimal one (whole units) iff it reaches the minimum', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...THREE_DECIMAL_CURRENCIES, ...ZERO_DECIMAL_CURRENCIES),
        fc.integer({ min: 1, max: 99_999_999 }),
        (currency, amount) => {
          const expected = THREE_DECIMAL_CURRENCIES.includes(currency)
            ? amount % 10 === 0 && amount >= 10
            : amount >= stripeChargeLimits(currency).minimum;
          expect(checkChargeAmount(money(amount, currency)).ok).toBe(expected);
        },
      ),
    );
  });
});

describe('payment metadata limits', () => {
  it('leaves the client Stripe’s 50 keys less the reserved ones: 47', () => {
    expect(STRIPE_METADATA_MAX_KEYS).toBe(50);
    expect([...RESERVED_PAYMENT_METADATA_KEYS]).toEqual(['payment_id', 'account_id', 'order_reference']);
    expect(MAX_PAYMENT_METADATA_KEYS).toBe(47);
  });

  it('recognises exactly the reserved keys', () => {
    for (const key of RESERVED_PAYMENT_METADATA_KEYS) expect(isReservedPaymentMetadataKey(key)).toBe(true);
    for (const key of ['cart', 'Payment_ID', 'payment_id ', 'order', '']) {
      expect(isReservedPaymentMetadataKey(key)).toBe(false);
    }
  });
});
