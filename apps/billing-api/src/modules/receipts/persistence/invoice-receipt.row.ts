import type { InvoiceReceiptView } from '../contracts/receipt.view.js';

/** A `receipts` row of an invoice as PostgreSQL returns it (bigint columns as strings). */
export interface InvoiceReceiptRow {
  id: string;
  account_id: string;
  invoice_id: string;
  number: string;
  amount: string;
  currency: string;
  issued_at: Date;
  merchant_name: string;
  merchant_address: string[];
}

/** The columns of an `InvoiceReceiptRow`, named. */
export const INVOICE_RECEIPT_COLUMNS =
  'id, account_id, invoice_id, number, amount, currency, issued_at, merchant_name, merchant_address';

function safeInteger(value: string, column: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw new Error(`receipts.${column}: ${value}`);
  return n;
}

export function toInvoiceReceiptView(row: InvoiceReceiptRow): InvoiceReceiptView {
  return {
    id: row.id,
    accountId: row.account_id,
    invoiceId: row.invoice_id,
    number: safeInteger(String(row.number), 'number'),
    amount: safeInteger(String(row.amount), 'amount'),
    currency: row.currency,
    issuedAt: new Date(row.issued_at).toISOString(),
    merchant: { name: row.merchant_name, address: row.merchant_address },
  };
}
