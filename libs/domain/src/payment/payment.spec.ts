import { describe, expect, it } from '@jest/globals';
import { DomainInvariantError } from '../kernel/errors.js';
import { money } from '../money/money.js';
import {
  capturesFirstTime,
  isCaptured,
  classifyPaymentAttempt,
  inputForOutcome,
  mapStripePaymentIntentStatus,
  PAYMENT_INPUT_TYPES,
  PAYMENT_STATUSES,
  PAYMENT_TRANSITIONS,
  paymentStatusFromAmounts,
  transitionPayment,
  type PaymentInput,
  type PaymentStatus,
  type StripePaymentIntentStatus,
} from './payment.js';

const NOW = new Date('2026-03-15T12:00:00.000Z');
const usd = (n: number) => money(n, 'usd');

// Canonical inputs; refunds are shown for a partial and a full refund of 10_000.
const INPUTS = {
  action_required: { type: 'action_required' },
  processing_started: { type: 'processing_started' },
  succeeded: { type: 'succeeded' },
  declined: { type: 'declined', declineCode: 'insufficient_funds' },
  canceled: { type: 'canceled' },
  outcome_unknown: { type: 'outcome_unknown' },
  refund_partial: { type: 'refunds_updated', captured: usd(10_000), refundedTotal: usd(2_500) },
  refund_full: { type: 'refunds_updated', captured: usd(10_000), refundedTotal: usd(10_000) },
  refund_none: { type: 'refunds_updated', captured: usd(10_000), refundedTotal: usd(0) },
} as const satisfies Record<string, PaymentInput>;
type InputName = keyof typeof INPUTS;

// Hand-written from R-PAY-1 / R-REF-3: target status, '=' for an accepted no-op, 'X' for invalid_transition.
type Cell = PaymentStatus | '=' | 'X';
const attempt: Record<InputName, Cell> = {
  action_required: 'requires_action',
  processing_started: 'processing',
  succeeded: 'succeeded',
  declined: 'failed',
  canceled: 'canceled',
  outcome_unknown: 'unknown',
  refund_partial: 'X',
  refund_full: 'X',
  refund_none: 'X',
};
const settled = (self: PaymentStatus): Record<InputName, Cell> => ({
  action_required: 'X',
  processing_started: 'X',
  succeeded: '=',
  declined: 'X',
  canceled: 'X',
  outcome_unknown: 'X',
  refund_partial: self === 'partially_refunded' ? '=' : 'partially_refunded',
  refund_full: self === 'refunded' ? '=' : 'refunded',
  refund_none: self === 'succeeded' ? '=' : 'succeeded',
});
const EXPECTED: Record<PaymentStatus, Record<InputName, Cell>> = {
  pending: attempt,
  requires_action: { ...attempt, action_required: '=' },
  processing: { ...attempt, action_required: 'X', processing_started: '=' },
  unknown: { ...attempt, outcome_unknown: '=' },
  failed: { ...attempt, declined: '=' },
  succeeded: settled('succeeded'),
  partially_refunded: settled('partially_refunded'),
  refunded: settled('refunded'),
  canceled: {
    action_required: 'X',
    processing_started: 'X',
    succeeded: 'X',
    declined: 'X',
    canceled: '=',
    outcome_unknown: 'X',
    refund_partial: 'X',
    refund_full: 'X',
    refund_none: 'X',
  },
};

const PAIRS = PAYMENT_STATUSES.flatMap((s) =>
  (Object.keys(INPUTS) as InputName[]).map((i) => [s, i] as const),
);

function observe(status: PaymentStatus, input: PaymentInput): unknown {
  const result = transitionPayment(status, input, NOW);
  if (!result.ok) return result.error.code === 'invalid_transition' ? 'X' : result.error.code;
  if (!result.value.changed)
    return result.value.events.length === 0 && result.value.status === status ? '=' : result.value;
  const [event, ...rest] = result.value.events;
  const eventOk =
    rest.length === 0 &&
    event?.type === 'payment.status_changed' &&
    event.version === 1 &&
    event.occurredAt === NOW.toISOString() &&
    event.fromStatus === status &&
    event.toStatus === result.value.status &&
    event.cause === input.type;
  return eventOk ? result.value.status : result.value;
}

describe('payment machine: every (status x input) pair', () => {
  it('covers every status and input type', () => {
    expect(new Set(Object.values(INPUTS).map((i) => i.type))).toEqual(new Set(PAYMENT_INPUT_TYPES));
    expect(PAYMENT_STATUSES).toHaveLength(9);
  });

  it.each(PAIRS)('%s + %s', (status, inputName) => {
    expect(observe(status, INPUTS[inputName])).toBe(EXPECTED[status][inputName]);
  });

  it('names the pair in invalid_transition and keeps the decline code in the event', () => {
    expect(transitionPayment('canceled', INPUTS.succeeded, NOW)).toMatchObject({
      ok: false,
      error: {
        code: 'invalid_transition',
        details: { from: 'canceled', input: 'succeeded', allowedInputs: ['canceled'] },
      },
    });
    const declined = transitionPayment('pending', INPUTS.declined, NOW);
    expect(declined.ok && declined.value.events[0]?.declineCode).toBe('insufficient_funds');
    const plain = transitionPayment('pending', { type: 'declined' }, NOW);
    expect(plain.ok && plain.value.events[0]?.declineCode).toBeNull();
  });

  it('exposes the table as data', () => {
    expect(Object.keys(PAYMENT_TRANSITIONS).sort()).toEqual([...PAYMENT_STATUSES].sort());
  });
});

describe('payment outcomes (four values)', () => {
  it('maps outcomes to inputs', () => {
    expect(inputForOutcome('succeeded')).toEqual({ type: 'succeeded' });
    expect(inputForOutcome('declined', 'do_not_honor')).toEqual({
      type: 'declined',
      declineCode: 'do_not_honor',
    });
    expect(inputForOutcome('declined')).toEqual({ type: 'declined' });
    expect(inputForOutcome('pending')).toEqual({ type: 'processing_started' });
    expect(inputForOutcome('unknown')).toEqual({ type: 'outcome_unknown' });
  });

  it('classifies a timeout as unknown, never declined', () => {
    expect(classifyPaymentAttempt({ kind: 'no_answer' })).toBe('unknown');
    expect(classifyPaymentAttempt({ kind: 'card_declined' })).toBe('declined');
    const response = (status: StripePaymentIntentStatus, hasLastPaymentError = false) =>
      classifyPaymentAttempt({ kind: 'response', status, hasLastPaymentError });
    expect(response('succeeded')).toBe('succeeded');
    expect(response('requires_payment_method', true)).toBe('declined');
    expect(response('canceled')).toBe('declined');
    expect(response('requires_action')).toBe('pending');
    expect(response('processing')).toBe('pending');
  });

  it.each<[StripePaymentIntentStatus, boolean, PaymentStatus]>([
    ['requires_payment_method', false, 'pending'],
    ['requires_payment_method', true, 'failed'],
    ['requires_confirmation', false, 'pending'],
    ['requires_action', false, 'requires_action'],
    ['processing', false, 'processing'],
    ['requires_capture', false, 'processing'],
    ['canceled', false, 'canceled'],
    ['succeeded', false, 'succeeded'],
  ])('maps PaymentIntent %s (last error %s) to %s', (status, hasLastPaymentError, expected) => {
    expect(mapStripePaymentIntentStatus({ status, hasLastPaymentError })).toBe(expected);
  });

  it('throws on an unknown PaymentIntent status', () => {
    const status = 'weird' as StripePaymentIntentStatus;
    expect(() => mapStripePaymentIntentStatus({ status, hasLastPaymentError: false })).toThrow(
      DomainInvariantError,
    );
  });
});

describe('paymentStatusFromAmounts', () => {
  it('derives the refund status and refuses impossible totals', () => {
    expect(paymentStatusFromAmounts(usd(100), usd(0))).toBe('succeeded');
    expect(paymentStatusFromAmounts(usd(100), usd(1))).toBe('partially_refunded');
    expect(paymentStatusFromAmounts(usd(100), usd(100))).toBe('refunded');
    expect(() => paymentStatusFromAmounts(usd(100), usd(101))).toThrow(DomainInvariantError);
    expect(() => paymentStatusFromAmounts(usd(100), usd(-1))).toThrow(DomainInvariantError);
    expect(() => paymentStatusFromAmounts(usd(100), money(1, 'eur'))).toThrow(DomainInvariantError);
  });
});

describe('capturesFirstTime', () => {
  it('is true only when a payment not captured before becomes captured', () => {
    expect(capturesFirstTime(null, 'succeeded')).toBe(true);
    expect(capturesFirstTime('requires_action', 'succeeded')).toBe(true);
    expect(capturesFirstTime(null, 'partially_refunded')).toBe(true);
    expect(capturesFirstTime('succeeded', 'partially_refunded')).toBe(false);
    expect(capturesFirstTime('pending', 'failed')).toBe(false);
    expect(capturesFirstTime(null, 'failed')).toBe(false);
  });

  it('agrees with isCaptured for every pair of statuses', () => {
    for (const from of PAYMENT_STATUSES) {
      for (const to of PAYMENT_STATUSES) {
        expect(capturesFirstTime(from, to)).toBe(isCaptured(to) && !isCaptured(from));
      }
    }
  });
});
