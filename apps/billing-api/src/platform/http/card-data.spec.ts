import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { containsCardNumber, findCardNumber, luhnValid, redactCardNumbers } from './card-data.js';

describe('card number detection (R-CORE-6)', () => {
  it.each([
    '4242424242424242',
    '4000 0000 0000 0002',
    '5555-5555-5555-4444',
    'my card is 378282246310005 thanks',
    '6011111111111117',
    '4222222222222',
    '4000002760003184',
    'glued4242424242424242letters',
    '3782 822463 10005',
    '4242-4242-4242-4242-428',
  ])('finds %p', (text) => {
    expect(containsCardNumber(text)).toBe(true);
  });

  it.each([
    '4242424242424241',
    '424242424242',
    'order 12345',
    '2026-11-22',
    'pm_1NabcXYZ3n2L4p',
    '42424242424242424242424',
    'abcdefab-4242-4242-4242-424242424242',
    'owner-4242-4242-4242-4242x',
    '',
  ])('ignores %p', (text) => {
    expect(containsCardNumber(text)).toBe(false);
  });

  it('agrees with a reference Luhn on random digit strings', () => {
    const reference = (s: string): boolean =>
      s
        .split('')
        .reverse()
        .map(Number)
        .map((d, i) => (i % 2 === 1 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d))
        .reduce((a, b) => a + b, 0) %
        10 ===
      0;
    fc.assert(
      fc.property(fc.stringMatching(/^\d{1,25}$/), (s) => {
        expect(luhnValid(s)).toBe(reference(s));
      }),
    );
  });

  it('never mistakes a UUID for a card number', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        expect(containsCardNumber(id)).toBe(false);
        expect(containsCardNumber(`owner-${id}`)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('reports the path of the offending field in nested bodies, keys included', () => {
    expect(findCardNumber({ a: 1, metadata: { note: 'x', card: '4242 4242 4242 4242' } })).toBe(
      'metadata.card',
    );
    expect(findCardNumber({ items: ['ok', { n: 4242424242424242 }] })).toBe('items[1].n');
    expect(findCardNumber({ metadata: { '4242424242424242': 'v' } })).toBe('metadata.4242424242424242');
    expect(findCardNumber({ amount: 5000, currency: 'usd' })).toBeNull();
  });

  it('redacts card numbers for log lines written before the request is refused (issue 16)', () => {
    expect(redactCardNumbers('/v1/payments/4242424242424242')).toBe('/v1/payments/[card]');
    expect(redactCardNumbers('/v1/x/4242%204242%204242%204242')).toBe('/v1/x/[card]');
    expect(redactCardNumbers('/v1/payments/0b6f2d1e-4b1a-4c1e-9a55-0d2f4c1e9a55')).toBe(
      '/v1/payments/0b6f2d1e-4b1a-4c1e-9a55-0d2f4c1e9a55',
    );
    expect(redactCardNumbers('/v1/orders/4242424242424241')).toBe('/v1/orders/4242424242424241');
  });
});
