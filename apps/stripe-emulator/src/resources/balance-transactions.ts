import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { newId } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { nowFor } from '../core/time.js';
import { resourceMissing } from '../http/errors.js';
import { registerExpander } from '../http/expand.js';
import { optNonEmpty } from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';

/** Stripe's standard card pricing: 2.9 % + 30 minor units per successful charge (US). */
export const CARD_FEE_PERCENT = 2.9;
export const CARD_FEE_FIXED = 30;
/** Funds of a charge become available after this many days (Stripe's standard 2-day schedule), at 00:00 UTC. */
export const AVAILABLE_AFTER_DAYS = 2;

const DAY = 86_400;

/** The processing fee of a charge of `amount` minor units (never more than the amount). */
export function cardFee(amount: number): number {
  return Math.min(amount, Math.round((amount * CARD_FEE_PERCENT) / 100) + CARD_FEE_FIXED);
}

export type BalanceSource =
  | {
      kind: 'charge';
      id: string;
      amount: number;
      currency: string;
      customer: string | null;
      description?: string | null;
    }
  | { kind: 'refund'; id: string; amount: number; currency: string; customer: string | null }
  | { kind: 'refund_failure'; id: string; amount: number; currency: string; customer: string | null };

/**
 * Records the balance transaction of a captured charge, a refund, or a failed refund's reversal, as
 * Stripe does: a charge credits `amount` less the processing fee (`reporting_category: charge`,
 * available two days later at midnight UTC), a refund debits its amount with no fee returned
 * (`refund`, available at once), a failed refund credits it back (`refund_failure`). Returns its id, for
 * the source's `balance_transaction` (or `failure_balance_transaction`).
 */
export function recordBalanceTransaction(account: Account, source: BalanceSource): string {
  const created = nowFor(account, source.customer);
  const isCharge = source.kind === 'charge';
  const fee = isCharge ? cardFee(source.amount) : 0;
  const amount = source.kind === 'refund' ? -source.amount : source.amount;
  const availableOn = isCharge ? (Math.floor(created / DAY) + AVAILABLE_AFTER_DAYS + 1) * DAY : created;
  const txn: Stripe.BalanceTransaction = {
    id: newId('txn'),
    object: 'balance_transaction',
    amount,
    available_on: availableOn,
    balance_type: 'payments',
    created,
    currency: source.currency,
    description: isCharge ? (source.description ?? null) : 'REFUND FOR CHARGE',
    exchange_rate: null,
    fee,
    fee_details:
      fee > 0
        ? [
            {
              amount: fee,
              application: null,
              currency: source.currency,
              description: 'Stripe processing fees',
              type: 'stripe_fee',
            },
          ]
        : [],
    net: amount - fee,
    reporting_category: source.kind,
    source: source.id,
    status: availableOn <= created ? 'available' : 'pending',
    type: source.kind === 'charge' ? 'charge' : source.kind,
  };
  account.balance_transactions.set(txn.id, txn);
  return txn.id;
}

/** `pending` until `available_on` has passed on the account's clock, then `available`. */
function current(account: Account, txn: Stripe.BalanceTransaction): Stripe.BalanceTransaction {
  if (txn.status === 'pending' && nowFor(account) >= txn.available_on) txn.status = 'available';
  return txn;
}

export function getBalanceTransaction(account: Account, id: string): Stripe.BalanceTransaction {
  const txn = account.balance_transactions.get(id);
  if (!txn) throw resourceMissing('balance_transaction', id);
  return current(account, txn);
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  const expand = (account: Account, id: string): Stripe.BalanceTransaction | undefined => {
    const txn = account.balance_transactions.get(id);
    return txn ? current(account, txn) : undefined;
  };
  registerExpander('charge', 'balance_transaction', expand);
  registerExpander('refund', 'balance_transaction', expand);
  registerExpander('refund', 'failure_balance_transaction', expand);
  registerExpander('balance_transaction', 'source', (account, id) => {
    return account.charges.get(id) ?? account.refunds.get(id);
  });

  router.get('/v1/balance_transactions/:id', (req) =>
    getBalanceTransaction(req.account, req.params.id ?? ''),
  );

  // Filters as Stripe documents them: type, source, currency, created (payout: never set here).
  router.get('/v1/balance_transactions', (req) => {
    const type = optNonEmpty(req.query, 'type');
    const source = optNonEmpty(req.query, 'source');
    const currency = optNonEmpty(req.query, 'currency')?.toLowerCase();
    const payout = optNonEmpty(req.query, 'payout');
    const page = paginate(req.account.balance_transactions.values(), req.query, '/v1/balance_transactions', {
      filter: (txn) =>
        payout === undefined &&
        (type === undefined || txn.type === type) &&
        (source === undefined || txn.source === source) &&
        (currency === undefined || txn.currency === currency),
    });
    for (const txn of page.data) current(req.account, txn);
    return page;
  });
}
