import { DomainInvariantError, rejection, type DomainRejection } from '../kernel/errors.js';
import type { DomainEventBase } from '../kernel/events.js';
import { err, ok, type Result } from '../kernel/result.js';
import { compare, isZero, type Money } from '../money/money.js';

/** The statuses of a one-time payment (R-PAY-1) plus `unknown` (outcome not known yet). */
export const PAYMENT_STATUSES = [
  'pending',
  'requires_action',
  'processing',
  'succeeded',
  'failed',
  'canceled',
  'partially_refunded',
  'refunded',
  'unknown',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The four outcomes of an attempt (STYLE): a timeout is `unknown`, never `declined`. */
export type PaymentOutcome = 'succeeded' | 'declined' | 'pending' | 'unknown';

/** What can happen to a payment. Refund changes carry the totals so the target is computed, not trusted. */
export type PaymentInput =
  | { readonly type: 'action_required' }
  | { readonly type: 'processing_started' }
  | { readonly type: 'succeeded' }
  | { readonly type: 'declined'; readonly declineCode?: string }
  | { readonly type: 'canceled' }
  /** The attempt's outcome is not known (timeout, connection reset): a janitor re-asks Stripe. */
  | { readonly type: 'outcome_unknown' }
  /** The succeeded refund total changed (refund succeeded, or a succeeded refund later failed). */
  | { readonly type: 'refunds_updated'; readonly captured: Money; readonly refundedTotal: Money };

/** The discriminant of a payment input. */
export type PaymentInputType = PaymentInput['type'];

/** Every payment input type, in a stable order. */
export const PAYMENT_INPUT_TYPES = [
  'action_required',
  'processing_started',
  'succeeded',
  'declined',
  'canceled',
  'outcome_unknown',
  'refunds_updated',
] as const satisfies readonly PaymentInputType[];

/** Target marker for a refund change: the status follows from the amounts (paymentStatusFromAmounts). */
type RefundTarget = 'by_refund_total';
type Target = PaymentStatus | RefundTarget;

type PaymentTable = Readonly<Record<PaymentStatus, Readonly<Partial<Record<PaymentInputType, Target>>>>>;

/**
 * The payment state machine as data: status -> input -> target. Unlisted pairs are
 * `invalid_transition`. A repeated report of the current status (a webhook after the synchronous
 * answer) and a late `succeeded` for a payment already refunded are no-ops, not errors. A failed
 * attempt can be followed by another attempt on the same PaymentIntent (Stripe allows it).
 */
export const PAYMENT_TRANSITIONS = {
  pending: {
    action_required: 'requires_action',
    processing_started: 'processing',
    succeeded: 'succeeded',
    declined: 'failed',
    canceled: 'canceled',
    outcome_unknown: 'unknown',
  },
  requires_action: {
    action_required: 'requires_action',
    processing_started: 'processing',
    succeeded: 'succeeded',
    declined: 'failed',
    canceled: 'canceled',
    outcome_unknown: 'unknown',
  },
  processing: {
    processing_started: 'processing',
    succeeded: 'succeeded',
    declined: 'failed',
    canceled: 'canceled',
    outcome_unknown: 'unknown',
  },
  unknown: {
    action_required: 'requires_action',
    processing_started: 'processing',
    succeeded: 'succeeded',
    declined: 'failed',
    canceled: 'canceled',
    outcome_unknown: 'unknown',
  },
  failed: {
    action_required: 'requires_action',
    processing_started: 'processing',
    succeeded: 'succeeded',
    declined: 'failed',
    canceled: 'canceled',
    outcome_unknown: 'unknown',
  },
  succeeded: { succeeded: 'succeeded', refunds_updated: 'by_refund_total' },
  partially_refunded: { succeeded: 'partially_refunded', refunds_updated: 'by_refund_total' },
  refunded: { succeeded: 'refunded', refunds_updated: 'by_refund_total' },
  canceled: { canceled: 'canceled' },
} as const satisfies PaymentTable;

/** Emitted on every status change (R-PAY-6 status history). */
export interface PaymentStatusChanged extends DomainEventBase<'payment.status_changed'> {
  readonly fromStatus: PaymentStatus;
  readonly toStatus: PaymentStatus;
  readonly cause: PaymentInputType;
  readonly declineCode: string | null;
}

/** Payment domain events. */
export type PaymentEvent = PaymentStatusChanged;

/** The new status and its events (none for a no-op). */
export interface PaymentTransition {
  readonly status: PaymentStatus;
  readonly changed: boolean;
  readonly events: PaymentEvent[];
}

/** Statuses of a captured payment: the refunded total decides among them. */
export const CAPTURED_PAYMENT_STATUSES = [
  'succeeded',
  'partially_refunded',
  'refunded',
] as const satisfies readonly PaymentStatus[];

/** True for a status in which the payment's money has been captured. */
export function isCaptured(status: PaymentStatus): boolean {
  return (CAPTURED_PAYMENT_STATUSES as readonly PaymentStatus[]).includes(status);
}

/** True when a move from `from` (null: a payment seen for the first time) captures it for the first time. */
export function capturesFirstTime(from: PaymentStatus | null, to: PaymentStatus): boolean {
  return isCaptured(to) && (from === null || !isCaptured(from));
}

/** succeeded / partially_refunded / refunded from the captured amount and the succeeded refund total. */
export function paymentStatusFromAmounts(
  captured: Money,
  refundedTotal: Money,
): 'succeeded' | 'partially_refunded' | 'refunded' {
  if (refundedTotal.amountMinor < 0 || compare(refundedTotal, captured) > 0) {
    throw new DomainInvariantError('refunded total outside 0..captured', {
      captured: captured.amountMinor,
      refundedTotal: refundedTotal.amountMinor,
    });
  }
  if (isZero(refundedTotal)) return 'succeeded';
  return compare(refundedTotal, captured) === 0 ? 'refunded' : 'partially_refunded';
}

/** The payment state machine: applies `input` to `status` at `now`, or `invalid_transition`. */
export function transitionPayment(
  status: PaymentStatus,
  input: PaymentInput,
  now: Date,
): Result<PaymentTransition, DomainRejection> {
  const row: Partial<Record<PaymentInputType, Target>> = PAYMENT_TRANSITIONS[status];
  const target = row[input.type];
  if (target === undefined) {
    return err(
      rejection('invalid_transition', `cannot apply '${input.type}' to a payment in status '${status}'`, {
        from: status,
        input: input.type,
        allowedInputs: Object.keys(row),
      }),
    );
  }
  const to =
    target === 'by_refund_total'
      ? input.type === 'refunds_updated'
        ? paymentStatusFromAmounts(input.captured, input.refundedTotal)
        : status
      : target;
  if (to === status) return ok({ status, changed: false, events: [] });
  return ok({
    status: to,
    changed: true,
    events: [
      {
        type: 'payment.status_changed',
        version: 1,
        occurredAt: now.toISOString(),
        fromStatus: status,
        toStatus: to,
        cause: input.type,
        declineCode: input.type === 'declined' ? (input.declineCode ?? null) : null,
      },
    ],
  });
}

/** The input that records an attempt's outcome. */
export function inputForOutcome(outcome: PaymentOutcome, declineCode?: string): PaymentInput {
  switch (outcome) {
    case 'succeeded':
      return { type: 'succeeded' };
    case 'declined':
      return declineCode === undefined ? { type: 'declined' } : { type: 'declined', declineCode };
    case 'pending':
      return { type: 'processing_started' };
    case 'unknown':
      return { type: 'outcome_unknown' };
  }
}

/** Every PaymentIntent status at the pinned API version. */
export type StripePaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

/**
 * PaymentIntent -> payment status. `requires_payment_method` after an attempt (a last payment error)
 * is a failure; before any attempt it is pending. `requires_capture` (authorised, not captured) is
 * processing. Refund statuses come from refunds, never from the PaymentIntent.
 */
export function mapStripePaymentIntentStatus(input: {
  status: StripePaymentIntentStatus;
  hasLastPaymentError: boolean;
}): PaymentStatus {
  switch (input.status) {
    case 'requires_payment_method':
      return input.hasLastPaymentError ? 'failed' : 'pending';
    case 'requires_confirmation':
      return 'pending';
    case 'requires_action':
      return 'requires_action';
    case 'processing':
    case 'requires_capture':
      return 'processing';
    case 'canceled':
      return 'canceled';
    case 'succeeded':
      return 'succeeded';
    default: {
      const unknown: never = input.status;
      throw new DomainInvariantError(`unknown PaymentIntent status '${String(unknown)}'`);
    }
  }
}

/** How a confirm call ended, as the gateway saw it. */
export type PaymentAttemptResult =
  | {
      readonly kind: 'response';
      readonly status: StripePaymentIntentStatus;
      readonly hasLastPaymentError: boolean;
    }
  /** Stripe answered with a card error (a decline). */
  | { readonly kind: 'card_declined' }
  /** Anything where we cannot know whether Stripe charged: timeout, connection error, 5xx. */
  | { readonly kind: 'no_answer' };

/**
 * The four-valued outcome of an attempt. Only an explicit decline is `declined`; a timeout, a network
 * error or a 5xx is `unknown` (the money may have moved) and is settled later by re-asking Stripe.
 */
export function classifyPaymentAttempt(result: PaymentAttemptResult): PaymentOutcome {
  switch (result.kind) {
    case 'card_declined':
      return 'declined';
    case 'no_answer':
      return 'unknown';
    case 'response': {
      const status = mapStripePaymentIntentStatus(result);
      if (status === 'succeeded') return 'succeeded';
      if (status === 'failed' || status === 'canceled') return 'declined';
      return 'pending';
    }
  }
}
