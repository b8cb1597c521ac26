import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DomainInvariantError } from '../kernel/errors.js';
import { money, sum } from '../money/money.js';
import {
  checkRefundEligibility,
  paymentStatusAfterRefunds,
  refundCanBecome,
  remainingRefundable,
  type RefundEligibilityInput,
  type RefundLine,
  type RefundStatus,
} from './refund.js';

const DAY = 86_400_000;
const PAID = new Date('2026-03-01T00:00:00.000Z');
const usd = (n: number) => money(n, 'usd');
const base: RefundEligibilityInput = {
  paymentStatus: 'succeeded',
  captured: usd(10_000),
  refunds: [],
  paidAt: PAID,
  now: new Date(PAID.getTime() + 5 * DAY),
  refundWindowDays: 30,
};
const code = (input: Partial<RefundEligibilityInput>): string | null => {
  const result = checkRefundEligibility({ ...base, ...input });
  return result.ok ? null : result.error.code;
};

describe('remainingRefundable', () => {
  it('subtracts succeeded and in-flight refunds, ignores failed and canceled', () => {
    const refunds: RefundLine[] = [
      { amount: usd(1000), status: 'succeeded' },
      { amount: usd(2000), status: 'pending' },
      { amount: usd(500), status: 'requires_action' },
      { amount: usd(4000), status: 'failed' },
      { amount: usd(4000), status: 'canceled' },
    ];
    expect(remainingRefundable({ captured: usd(10_000), refunds })).toEqual(usd(6500));
  });

  it('throws when data already exceeds the captured amount or mixes currencies', () => {
    expect(() =>
      remainingRefundable({ captured: usd(100), refunds: [{ amount: usd(101), status: 'succeeded' }] }),
    ).toThrow(DomainInvariantError);
    expect(() =>
      remainingRefundable({ captured: usd(100), refunds: [{ amount: money(1, 'eur'), status: 'pending' }] }),
    ).toThrow(DomainInvariantError);
  });
});

describe('checkRefundEligibility (R-REF-1)', () => {
  it('defaults to the remaining amount', () => {
    const result = checkRefundEligibility({
      ...base,
      refunds: [{ amount: usd(3000), status: 'succeeded' }],
      paymentStatus: 'partially_refunded',
    });
    expect(result).toEqual({ ok: true, value: { amount: usd(7000), remainingAfter: usd(0) } });
  });

  it('accepts a partial refund and reports what remains', () => {
    expect(checkRefundEligibility({ ...base, requested: usd(2500) })).toEqual({
      ok: true,
      value: { amount: usd(2500), remainingAfter: usd(7500) },
    });
  });

  it.each(['pending', 'requires_action', 'processing', 'failed', 'canceled', 'refunded', 'unknown'] as const)(
    'refuses a payment in status %s',
    (paymentStatus) => {
      expect(code({ paymentStatus })).toBe('payment_not_refundable');
    },
  );

  it('refuses after the window, and allows the last instant of it', () => {
    expect(code({ now: new Date(PAID.getTime() + 30 * DAY) })).toBeNull();
    expect(code({ now: new Date(PAID.getTime() + 30 * DAY + 1) })).toBe('refund_window_expired');
    expect(code({ refundWindowDays: 0, now: PAID })).toBeNull();
    expect(() => checkRefundEligibility({ ...base, refundWindowDays: -1 })).toThrow(DomainInvariantError);
  });

  it('refuses another currency, non-positive amounts and amounts beyond what is left', () => {
    expect(code({ requested: money(100, 'eur') })).toBe('refund_currency_mismatch');
    expect(code({ requested: usd(0) })).toBe('invalid_amount');
    expect(code({ requested: usd(-5) })).toBe('invalid_amount');
    expect(code({ requested: usd(10_001) })).toBe('refund_exceeds_remaining');
    const pendingAll = [{ amount: usd(10_000), status: 'pending' as const }];
    expect(code({ refunds: pendingAll, paymentStatus: 'succeeded' })).toBe('refund_exceeds_remaining');
    const result = checkRefundEligibility({ ...base, requested: usd(10_001) });
    expect(!result.ok && result.error.details).toEqual({
      remaining: 10_000,
      requested: 10_001,
      currency: 'usd',
    });
  });

  it('checks the status before the window, and the window before the amount', () => {
    expect(code({ paymentStatus: 'failed', now: new Date(PAID.getTime() + 90 * DAY) })).toBe(
      'payment_not_refundable',
    );
    expect(code({ requested: usd(10_001), now: new Date(PAID.getTime() + 90 * DAY) })).toBe(
      'refund_window_expired',
    );
  });
});

describe('paymentStatusAfterRefunds', () => {
  it('counts succeeded refunds only', () => {
    const line = (n: number, status: RefundStatus): RefundLine => ({ amount: usd(n), status });
    expect(paymentStatusAfterRefunds({ captured: usd(100), refunds: [line(100, 'pending')] })).toBe(
      'succeeded',
    );
    expect(
      paymentStatusAfterRefunds({ captured: usd(100), refunds: [line(40, 'succeeded'), line(60, 'failed')] }),
    ).toBe('partially_refunded');
    expect(
      paymentStatusAfterRefunds({
        captured: usd(100),
        refunds: [line(40, 'succeeded'), line(60, 'succeeded')],
      }),
    ).toBe('refunded');
  });
});

describe('refund properties (R-REF-2, fast-check)', () => {
  type Op = { kind: 'request'; amount: number | null } | { kind: 'settle'; index: number; to: RefundStatus };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('request' as const),
      amount: fc.option(fc.integer({ min: -100, max: 12_000 })),
    }),
    fc.record({
      kind: fc.constant('settle' as const),
      index: fc.nat(30),
      to: fc.constantFrom<RefundStatus>('succeeded', 'failed', 'canceled'),
    }),
  );

  it('random refund sequences never exceed the captured amount', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(op, { maxLength: 40 }),
        (capturedMinor, ops) => {
          const captured = usd(capturedMinor);
          const refunds: RefundLine[] = [];
          const overdrawn: unknown[] = [];
          for (const o of ops) {
            if (o.kind === 'request') {
              const eligibility = checkRefundEligibility({
                ...base,
                captured,
                refunds,
                paymentStatus:
                  paymentStatusAfterRefunds({ captured, refunds }) === 'refunded' ? 'refunded' : 'succeeded',
                ...(o.amount === null ? {} : { requested: usd(o.amount) }),
              });
              if (eligibility.ok) refunds.push({ amount: eligibility.value.amount, status: 'pending' });
            } else {
              const target = refunds[o.index];
              // Only in-flight refunds settle (Stripe: pending -> succeeded | failed | canceled).
              if (target && target.status === 'pending') refunds[o.index] = { ...target, status: o.to };
            }
            const held = sum(
              refunds.filter((r) => r.status !== 'failed' && r.status !== 'canceled').map((r) => r.amount),
              'usd',
            );
            if (held.amountMinor > capturedMinor)
              overdrawn.push({ refunds: [...refunds], held: held.amountMinor });
          }
          expect(overdrawn).toEqual([]);
          expect(remainingRefundable({ captured, refunds }).amountMinor).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('refundCanBecome', () => {
  const statuses = ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] as const;
  it('allows exactly the moves of the table, and staying; never back from a settled state', () => {
    const allowed = new Set([
      'pending>requires_action',
      'pending>succeeded',
      'pending>failed',
      'pending>canceled',
      'requires_action>pending',
      'requires_action>succeeded',
      'requires_action>failed',
      'requires_action>canceled',
      'succeeded>failed',
    ]);
    for (const from of statuses) {
      for (const to of statuses) {
        expect([from, to, refundCanBecome(from, to)]).toEqual([
          from,
          to,
          from === to || allowed.has(`${from}>${to}`),
        ]);
      }
    }
  });
});
