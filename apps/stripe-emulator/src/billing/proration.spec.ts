import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { divRoundHalfAwayFromZero, prorateRemaining, prorationLines, ProrationError } from './proration.js';

describe('proration', () => {
  it('gives -$5 and +$10 for $10 -> $20 at mid-period (NOTES.md example)', () => {
    const lines = prorationLines(
      [{ itemId: 'si_1', priceId: 'price_10', unitAmount: 1000, quantity: 1 }],
      [{ itemId: 'si_1', priceId: 'price_20', unitAmount: 2000, quantity: 1 }],
      0,
      1000,
      500,
    );
    expect(lines.map((l) => l.amount)).toEqual([-500, 1000]);
    expect(lines.map((l) => [l.periodStart, l.periodEnd])).toEqual([
      [500, 1000],
      [500, 1000],
    ]);
  });

  it('computes to the second with half-away-from-zero rounding', () => {
    // 30-day period, 1 second in: 999 * 2591999 / 2592000 = 998.99961... -> 999
    expect(prorateRemaining(999, 1, 0, 2_592_000, 1)).toBe(999);
    // exactly one third of 1000 -> 333.33 -> 333; two thirds -> 666.67 -> 667
    expect(prorateRemaining(1000, 1, 0, 3, 2)).toBe(333);
    expect(prorateRemaining(1000, 1, 0, 3, 1)).toBe(667);
    // a half cent rounds up: 1 * 1/2
    expect(prorateRemaining(1, 1, 0, 2, 1)).toBe(1);
    expect(divRoundHalfAwayFromZero(-1n, 2n)).toBe(-1n);
    expect(divRoundHalfAwayFromZero(-5n, 4n)).toBe(-1n);
  });

  it('multiplies by quantity and handles amounts beyond 2^53 in the intermediate product', () => {
    expect(prorateRemaining(900_000_000, 9_000, 0, 2_678_400, 1_339_200)).toBe(4_050_000_000_000);
  });

  it('credits the old quantity and debits the new one on a quantity change; nothing if unchanged', () => {
    const before = [
      { itemId: 'si_a', priceId: 'p', unitAmount: 1000, quantity: 2 },
      { itemId: 'si_b', priceId: 'q', unitAmount: 500, quantity: 1 },
    ];
    const after = [
      { itemId: 'si_a', priceId: 'p', unitAmount: 1000, quantity: 5 },
      { itemId: 'si_b', priceId: 'q', unitAmount: 500, quantity: 1 },
    ];
    const lines = prorationLines(before, after, 0, 100, 25);
    expect(lines.map((l) => [l.itemId, l.quantity, l.amount])).toEqual([
      ['si_a', 2, -1500],
      ['si_a', 5, 3750],
    ]);
  });

  it('rejects a proration date outside the period', () => {
    expect(() => prorateRemaining(1000, 1, 100, 200, 99)).toThrow(ProrationError);
    expect(() => prorateRemaining(1000, 1, 100, 200, 201)).toThrow(ProrationError);
    expect(() => prorateRemaining(1000, 1, 100, 100, 100)).toThrow(ProrationError);
  });

  it('property: the credit of a swap at t plus the debit of the swap back nets to zero', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 40 * 86_400 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (unit, qty, length, frac) => {
          const t = Math.floor(length * frac);
          const amount = prorateRemaining(unit, qty, 0, length, t);
          expect(amount).toBeGreaterThanOrEqual(0);
          expect(amount).toBeLessThanOrEqual(unit * qty);
          // exact rational value within half a unit
          expect(Math.abs(amount - (unit * qty * (length - t)) / length)).toBeLessThanOrEqual(0.5);
        },
      ),
    );
  });
});
