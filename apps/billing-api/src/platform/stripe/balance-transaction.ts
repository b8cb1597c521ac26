import type Stripe from 'stripe';

/** A balance transaction as the payment and refund mirrors record it (minor units, signed as Stripe signs them). */
export interface BalanceValues {
  balanceTransactionId: string;
  currency: string;
  amount: number;
  fee: number;
  net: number;
}

/**
 * The values of an expanded balance transaction (a charge's or a refund's `balance_transaction` when the
 * caller asked for `expand[]`); null for an id, null, or anything that is not a whole balance transaction.
 * Webhook payloads never expand it: the mirrors read it by id.
 */
export function balanceValuesOf(
  txn: string | Stripe.BalanceTransaction | null | undefined,
): BalanceValues | null {
  if (!txn || typeof txn !== 'object' || txn.object !== 'balance_transaction') return null;
  const { id, amount, fee, net, currency } = txn;
  if (typeof id !== 'string' || ![amount, fee, net].every((v) => Number.isSafeInteger(v))) return null;
  return { balanceTransactionId: id, currency: String(currency).toLowerCase(), amount, fee, net };
}

/** The balance transaction's id, expanded or not. */
export function balanceTransactionIdOf(
  txn: string | Stripe.BalanceTransaction | null | undefined,
): string | null {
  if (!txn) return null;
  return typeof txn === 'string' ? txn : (txn.id ?? null);
}

/** Copies a balance transaction onto a payment or refund row. */
export function recordBalance(
  row: { balanceTransactionId: string | null; fee: number | null; net: number | null },
  balance: BalanceValues,
): void {
  row.balanceTransactionId = balance.balanceTransactionId;
  row.fee = balance.fee;
  row.net = balance.net;
}
