import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { emitEvent } from '../core/events.js';
import { newId } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { nowFor } from '../core/time.js';
import { invalidRequest, resourceMissing } from '../http/errors.js';
import { registerExpander } from '../http/expand.js';
import { applyMetadata, optInt, optNonEmpty } from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { recordBalanceTransaction } from './balance-transactions.js';
import { getCharge } from './charges.js';
import { getPaymentIntent } from './payment-intents.js';
import { customerIdOf, testCardOf } from './payment-methods.js';

const REASONS: ReadonlySet<string> = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);

/** Default delay before a pending refund settles (ms); `settings.refundSettleMs` overrides it. */
export const DEFAULT_REFUND_SETTLE_MS = 20;

function getRefund(account: Account, id: string): Stripe.Refund {
  const refund = account.refunds.get(id);
  if (!refund) throw resourceMissing('refund', id);
  return refund;
}

function formatAmount(amount: number, currency: string): string {
  return `${amount} ${currency} minor units`;
}

export interface CreateRefundInput {
  charge?: string;
  payment_intent?: string;
  amount?: number;
  reason?: string | null;
  metadata?: Stripe.Metadata;
}

/**
 * Creates a refund in `pending` (the charge's `amount_refunded` counts it at once, so concurrent refunds
 * cannot exceed the charge), then settles it asynchronously: `succeeded`, or `failed` for the refund
 * failure test card (4000000000005126).
 */
export function createRefund(account: Account, input: CreateRefundInput): Stripe.Refund {
  let charge: Stripe.Charge;
  if (input.charge) {
    charge = getCharge(account, input.charge, 'charge');
  } else if (input.payment_intent) {
    const pi = getPaymentIntent(account, input.payment_intent, 'payment_intent');
    const chargeId = typeof pi.latest_charge === 'string' ? pi.latest_charge : pi.latest_charge?.id;
    if (pi.status !== 'succeeded' || !chargeId) {
      throw invalidRequest(
        `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`,
        'payment_intent',
      );
    }
    charge = getCharge(account, chargeId, 'payment_intent');
  } else {
    throw invalidRequest(
      'One of the following params should be provided for this request: payment_intent or charge.',
    );
  }
  if (charge.status !== 'succeeded' || !charge.captured) {
    throw invalidRequest(
      `Charge ${charge.id} has not been captured or did not succeed, so it cannot be refunded.`,
      'charge',
    );
  }
  const available = charge.amount_captured - charge.amount_refunded;
  if (available <= 0) {
    throw invalidRequest(
      `Charge ${charge.id} has already been refunded.`,
      'charge',
      'charge_already_refunded',
    );
  }
  const amount = input.amount ?? available;
  if (amount < 1) throw invalidRequest('Invalid positive integer', 'amount');
  if (amount > available) {
    throw invalidRequest(
      `Refund amount (${formatAmount(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatAmount(available, charge.currency)})`,
      'amount',
      'amount_too_large',
    );
  }
  if (input.reason && !REASONS.has(input.reason)) {
    throw invalidRequest(
      'Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer',
      'reason',
    );
  }
  const customer = customerIdOf(charge.customer);
  const refund: Stripe.Refund = {
    id: newId('re'),
    object: 'refund',
    amount,
    balance_transaction: null,
    charge: charge.id,
    created: nowFor(account, customer),
    currency: charge.currency,
    customer,
    customer_account: null,
    destination_details: {
      type: 'card',
      card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
    },
    metadata: input.metadata ?? {},
    payment_intent:
      typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null),
    payment_method: charge.payment_method,
    reason: input.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'pending',
    transfer_reversal: null,
  };
  refund.balance_transaction = recordBalanceTransaction(account, {
    kind: 'refund',
    id: refund.id,
    amount,
    currency: refund.currency,
    customer,
  });
  account.refunds.set(refund.id, refund);
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded >= charge.amount_captured;
  emitEvent(account, { type: 'refund.created', object: refund });
  emitEvent(account, { type: 'charge.refunded', object: charge });

  const pm = charge.payment_method ? account.payment_methods.get(charge.payment_method) : undefined;
  const willFail = pm !== undefined && testCardOf(account, pm)?.behavior.kind === 'refund_fail';
  const delay = Number(account.shared.settings.refundSettleMs ?? DEFAULT_REFUND_SETTLE_MS);
  account.shared.later(delay, () => settleRefund(account, refund.id, willFail));
  return refund;
}

function settleRefund(account: Account, id: string, fail: boolean): void {
  const refund = account.refunds.get(id);
  if (!refund || refund.status !== 'pending') return;
  const charge = typeof refund.charge === 'string' ? account.charges.get(refund.charge) : undefined;
  if (fail) {
    refund.status = 'failed';
    refund.failure_reason = 'expired_or_canceled_card';
    refund.failure_balance_transaction = recordBalanceTransaction(account, {
      kind: 'refund_failure',
      id: refund.id,
      amount: refund.amount,
      currency: refund.currency,
      customer: customerIdOf(refund.customer),
    });
    if (charge) {
      charge.amount_refunded -= refund.amount;
      charge.refunded = false;
    }
    emitEvent(account, { type: 'refund.failed', object: refund, previousAttributes: { status: 'pending' } });
  } else {
    refund.status = 'succeeded';
    if (refund.destination_details?.card) {
      refund.destination_details = {
        ...refund.destination_details,
        card: {
          ...refund.destination_details.card,
          reference: `${Date.now()}`,
          reference_status: 'available',
        },
      };
    }
  }
  emitEvent(account, { type: 'refund.updated', object: refund, previousAttributes: { status: 'pending' } });
  emitEvent(account, {
    type: 'charge.refund.updated',
    object: refund,
    previousAttributes: { status: 'pending' },
  });
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  registerExpander('*', 'refund', (account, id) => account.refunds.get(id));

  router.post('/v1/refunds', (req) => {
    const input: CreateRefundInput = { metadata: applyMetadata({}, req.body) };
    const charge = optNonEmpty(req.body, 'charge');
    if (charge) input.charge = charge;
    const pi = optNonEmpty(req.body, 'payment_intent');
    if (pi) input.payment_intent = pi;
    const amount = optInt(req.body, 'amount');
    if (amount !== undefined) input.amount = amount;
    const reason = optNonEmpty(req.body, 'reason');
    if (reason) input.reason = reason;
    return createRefund(req.account, input);
  });

  router.get('/v1/refunds/:id', (req) => getRefund(req.account, req.params.id ?? ''));

  router.post('/v1/refunds/:id', (req) => {
    const refund = getRefund(req.account, req.params.id ?? '');
    refund.metadata = applyMetadata(refund.metadata ?? {}, req.body);
    emitEvent(req.account, { type: 'refund.updated', object: refund });
    return refund;
  });

  router.post('/v1/refunds/:id/cancel', (req) => {
    const refund = getRefund(req.account, req.params.id ?? '');
    if (refund.status !== 'pending' && refund.status !== 'requires_action') {
      throw invalidRequest(
        `Refund ${refund.id} cannot be canceled because it has a status of ${refund.status ?? 'unknown'}. Only pending or requires_action refunds can be canceled.`,
        'refund',
      );
    }
    const charge = typeof refund.charge === 'string' ? req.account.charges.get(refund.charge) : undefined;
    const previous = refund.status;
    refund.status = 'canceled';
    if (charge) {
      charge.amount_refunded -= refund.amount;
      charge.refunded = false;
    }
    emitEvent(req.account, {
      type: 'refund.updated',
      object: refund,
      previousAttributes: { status: previous },
    });
    emitEvent(req.account, {
      type: 'charge.refund.updated',
      object: refund,
      previousAttributes: { status: previous },
    });
    return refund;
  });

  router.get('/v1/refunds', (req) => {
    const charge = optNonEmpty(req.query, 'charge');
    const pi = optNonEmpty(req.query, 'payment_intent');
    return paginate(req.account.refunds.values(), req.query, '/v1/refunds', {
      filter: (r) =>
        (charge === undefined || r.charge === charge) && (pi === undefined || r.payment_intent === pi),
    });
  });
}
