/**
 * The closed list of business refusals the domain returns. The HTTP layer maps each code to a status
 * through an exhaustive Record, so adding a code here does not compile until it is mapped there.
 */
export const DOMAIN_ERROR_CODES = [
  /** The input is not allowed in the current state (subscription or payment machine). */
  'invalid_transition',
  /** The account already had its one trial. */
  'trial_already_used',
  /** The plan offers no trial (Free, or a plan marked not trial-eligible). */
  'trial_not_available',
  /** An upgrade or seat purchase while an invoice is unpaid (past_due or suspended). */
  'outstanding_balance',
  /** No free seat for a new member and the owner did not ask to buy one. */
  'seat_limit_reached',
  /** The plan sells no add-on seats for that interval. */
  'seat_addon_unavailable',
  /** The target seat total is below the member count: members must be removed first. */
  'downgrade_blocked_by_seats',
  /** The requested plan and interval are the current ones. */
  'same_plan',
  /** No such plan in the catalogue. */
  'plan_not_found',
  /** A plan-change quote applied after its expiry: ask for a new quote. */
  'quote_expired',
  /** The subscription changed (or is billed differently) since the quote was made: ask for a new quote. */
  'quote_stale',
  /** The quote was already applied (by another request): one quote makes one change. */
  'quote_already_applied',
  /** Nothing to pay: the subscription has no open invoice. */
  'no_outstanding_invoice',
  /** Suspension requested before the grace period (days and attempts) is exhausted. */
  'grace_period_active',
  /** Two amounts in different currencies where one currency is required. */
  'currency_mismatch',
  /**
   * Not a safe integer amount of minor units, not positive where it must be, or not a multiple of
   * the currency's step (three-decimal currencies end in 0).
   */
  'invalid_amount',
  /** Below Stripe's minimum charge for the currency. */
  'amount_too_small',
  /** Above Stripe's maximum charge, or above the configured maximum payment. */
  'amount_too_large',
  /** Not an ISO 4217 currency that Stripe accepts. */
  'unsupported_currency',
  /** The refund is larger than what is left to refund. */
  'refund_exceeds_remaining',
  /** The payment is older than the refund window. */
  'refund_window_expired',
  /** The payment is not in a refundable status (not succeeded, or fully refunded). */
  'payment_not_refundable',
  /** The refund currency differs from the payment currency. */
  'refund_currency_mismatch',
  /** Billing is off for the account (its flag, or outside the rollout): nothing is asked of Stripe for it. */
  'billing_disabled',
  /** The user is already a member of the account. */
  'member_already_exists',
  /** The owner cannot be removed from the account (transfer ownership first). */
  'owner_not_removable',
  /** Only the account's owner (as the members table says) may transfer ownership. */
  'ownership_transfer_not_owner',
  /** The named new owner is not another member of the account. */
  'ownership_transfer_invalid_target',
  /** The transfer link was already used, or replaced by a newer transfer. */
  'ownership_transfer_used',
  /** The transfer link is older than its validity (48 hours). */
  'ownership_transfer_expired',
  /** The transfer names another member than the one confirming it. */
  'ownership_transfer_wrong_user',
  /** The members changed since the transfer was asked for (the owner or the named member moved). */
  'ownership_transfer_stale',
] as const;

/** A stable, machine-readable code for a business refusal. */
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

/** An expected business refusal, returned (never thrown). */
export interface DomainRejection {
  readonly code: DomainErrorCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** Builds a rejection; `details` is omitted when not given. */
export function rejection(
  code: DomainErrorCode,
  message: string,
  details?: Record<string, unknown>,
): DomainRejection {
  return details === undefined ? { code, message } : { code, message, details };
}

/** True when `value` is one of the domain error codes. */
export function isDomainErrorCode(value: unknown): value is DomainErrorCode {
  return typeof value === 'string' && (DOMAIN_ERROR_CODES as readonly string[]).includes(value);
}

/** A broken invariant (a bug or corrupt data), thrown and never returned: it maps to a 5xx. */
export class DomainInvariantError extends Error {
  override readonly name = 'DomainInvariantError';

  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Throws a DomainInvariantError unless `condition` holds. */
export function invariant(
  condition: boolean,
  message: string,
  details?: Record<string, unknown>,
): asserts condition {
  if (!condition) throw new DomainInvariantError(message, details);
}
