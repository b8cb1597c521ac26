import type { ReceiptView } from '../contracts/receipt.view.js';

/** A `receipts` row as PostgreSQL returns it (bigint columns as strings). */
export interface ReceiptRow {
  id: string;
  account_id: string;
  payment_id: string;
  number: string;
  amount: string;
  currency: string;
  issued_at: Date;
  method_brand: string | null;
  method_last4: string | null;
  merchant_name: string | null;
  merchant_address: string[] | null;
}

/**
 * The columns of a `ReceiptRow`, named (never `*`: a prepared statement's result columns must not change
 * under it when a migration adds one).
 */
export const RECEIPT_COLUMNS =
  'id, account_id, payment_id, number, amount, currency, issued_at, method_brand, method_last4, merchant_name, merchant_address';

function safeInteger(value: string, column: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw new Error(`receipts.${column}: ${value}`);
  return n;
}

export function toReceiptView(row: ReceiptRow): ReceiptView {
  return {
    id: row.id,
    accountId: row.account_id,
    paymentId: row.payment_id,
    number: safeInteger(String(row.number), 'number'),
    amount: safeInteger(String(row.amount), 'amount'),
    currency: row.currency,
    issuedAt: new Date(row.issued_at).toISOString(),
    methodBrand: row.method_brand,
    methodLast4: row.method_last4,
    merchant: row.merchant_name ? { name: row.merchant_name, address: row.merchant_address ?? [] } : null,
  };
}
