import { DomainInvariantError, rejection, type DomainRejection } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';
import { compare, isNegative, subtract, sum, type Money } from '../money/money.js';
import { paymentStatusFromAmounts, type PaymentStatus } from '../payment/payment.js';

const DAY_MS = 86_400_000;

/** Stripe refund statuses (R-REF-3). */
export type RefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

/**
 * Where a refund may go next, as Stripe moves refunds: a refund waiting on the customer
 * (`requires_action`) and a `pending` one may settle either way or swap; a succeeded refund may still
 * fail (the bank returns it); failed and canceled are final. A report of any other move describes an
 * older state of the refund.
 */
export const REFUND_TRANSITIONS = {
  pending: ['requires_action', 'succeeded', 'failed', 'canceled'],
  requires_action: ['pending', 'succeeded', 'failed', 'canceled'],
  succeeded: ['failed'],
  failed: [],
  canceled: [],
} as const satisfies Record<RefundStatus, readonly RefundStatus[]>;

/** True when a refund in `from` can be in `to` next (staying where it is included). */
export function refundCanBecome(from: RefundStatus, to: RefundStatus): boolean {
  return from === to || (REFUND_TRANSITIONS[from] as readonly RefundStatus[]).includes(to);
}

/** A refund as far as the money rules care. */
export interface RefundLine {
  readonly amount: Money;
  readonly status: RefundStatus;
}

/** Refunds that hold money: succeeded ones and those still in flight. */
function holdsMoney(status: RefundStatus): boolean {
  return status === 'succeeded' || status === 'pending' || status === 'requires_action';
}

/**
 * captured - succeeded - in-flight (pending, requires_action) refunds (R-REF-1/2). In-flight refunds
 * count so that concurrent refunds can never exceed the captured amount. Throws when the data
 * already exceeds it (a broken invariant) or currencies differ.
 */
export function remainingRefundable(input: { captured: Money; refunds: readonly RefundLine[] }): Money {
  const held = sum(
    input.refunds.filter((r) => holdsMoney(r.status)).map((r) => r.amount),
    input.captured.currency,
  );
  const remaining = subtract(input.captured, held);
  if (isNegative(remaining)) {
    throw new DomainInvariantError('refunds exceed the captured amount', {
      captured: input.captured.amountMinor,
      refunded: held.amountMinor,
    });
  }
  return remaining;
}

/** Input of checkRefundEligibility. `requested` omitted means "refund everything that is left". */
export interface RefundEligibilityInput {
  readonly paymentStatus: PaymentStatus;
  readonly captured: Money;
  readonly refunds: readonly RefundLine[];
  readonly requested?: Money;
  readonly paidAt: Date;
  readonly now: Date;
  readonly refundWindowDays: number;
}

/**
 * Whether a refund may be issued and for how much (R-REF-1), checked in this order:
 * payment_not_refundable (not succeeded / partially_refunded), refund_window_expired (more than
 * `refundWindowDays` x 24 h after payment), refund_currency_mismatch, invalid_amount (not > 0),
 * refund_exceeds_remaining (including nothing left). Run it under a lock on the payment (R-REF-2).
 */
export function checkRefundEligibility(
  input: RefundEligibilityInput,
): Result<{ amount: Money; remainingAfter: Money }, DomainRejection> {
  const { paymentStatus, captured, requested, paidAt, now, refundWindowDays } = input;
  if (!Number.isSafeInteger(refundWindowDays) || refundWindowDays < 0) {
    throw new DomainInvariantError('refundWindowDays must be a non-negative integer', { refundWindowDays });
  }
  if (paymentStatus !== 'succeeded' && paymentStatus !== 'partially_refunded') {
    return err(
      rejection('payment_not_refundable', `a payment in status '${paymentStatus}' cannot be refunded`, {
        paymentStatus,
      }),
    );
  }
  const windowEnd = new Date(paidAt.getTime() + refundWindowDays * DAY_MS);
  if (now.getTime() > windowEnd.getTime()) {
    return err(
      rejection('refund_window_expired', `refunds are possible for ${refundWindowDays} days after payment`, {
        refundWindowDays,
        windowEndedAt: windowEnd.toISOString(),
      }),
    );
  }
  if (requested && requested.currency !== captured.currency) {
    return err(
      rejection('refund_currency_mismatch', `the payment was made in ${captured.currency.toUpperCase()}`, {
        paymentCurrency: captured.currency,
        refundCurrency: requested.currency,
      }),
    );
  }
  if (requested && requested.amountMinor <= 0) {
    return err(
      rejection('invalid_amount', 'the refund amount must be positive', { amount: requested.amountMinor }),
    );
  }
  const remaining = remainingRefundable(input);
  const amount = requested ?? remaining;
  if (remaining.amountMinor === 0 || compare(amount, remaining) > 0) {
    return err(
      rejection(
        'refund_exceeds_remaining',
        `at most ${remaining.amountMinor} minor units can still be refunded`,
        {
          remaining: remaining.amountMinor,
          requested: amount.amountMinor,
          currency: captured.currency,
        },
      ),
    );
  }
  return ok({ amount, remainingAfter: subtract(remaining, amount) });
}

/** Payment status implied by its succeeded refunds: succeeded, partially_refunded or refunded (R-REF-3). */
export function paymentStatusAfterRefunds(input: {
  captured: Money;
  refunds: readonly RefundLine[];
}): 'succeeded' | 'partially_refunded' | 'refunded' {
  const refunded = sum(
    input.refunds.filter((r) => r.status === 'succeeded').map((r) => r.amount),
    input.captured.currency,
  );
  return paymentStatusFromAmounts(input.captured, refunded);
}
