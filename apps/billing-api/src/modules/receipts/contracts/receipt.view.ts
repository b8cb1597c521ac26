/** A payment's receipt (R-PAY-4). Amount in minor units; the number is gap-free per account. */
export interface ReceiptView {
  id: string;
  accountId: string;
  paymentId: string;
  number: number;
  amount: number;
  currency: string;
  issuedAt: string;
  methodBrand: string | null;
  methodLast4: string | null;
  /**
   * The business the receipt is from, as it was when the receipt was issued; null on receipts issued
   * before it was stored (they show the configured merchant).
   */
  merchant: ReceiptMerchant | null;
}

/** A merchant as a receipt names it: its name and postal address lines. */
export interface ReceiptMerchant {
  name: string;
  address: string[];
}

/** What the receipts module needs of a captured payment to issue its receipt. */
export interface CapturedPaymentFacts {
  paymentId: string;
  accountId: string;
  /** The captured amount (amount_received), minor units. */
  amount: number;
  currency: string;
  succeededAt: Date;
  methodBrand: string | null;
  methodLast4: string | null;
  description: string | null;
}

/** What the receipts module needs of a paid invoice to issue its receipt (R-PAY-4). */
export interface PaidInvoiceFacts {
  /** The invoice mirror's id (not Stripe's). */
  invoiceId: string;
  accountId: string;
  /** Stripe's invoice number, for the e-mail; null when Stripe gave none. */
  invoiceNumber: string | null;
  /** What the invoice collected (amount_paid), minor units. */
  amount: number;
  currency: string;
  paidAt: Date;
  periodStart: Date | null;
  periodEnd: Date | null;
}

/** A paid invoice's receipt: a number of the same per-account sequence as payments' receipts. */
export interface InvoiceReceiptView {
  id: string;
  accountId: string;
  invoiceId: string;
  number: number;
  amount: number;
  currency: string;
  issuedAt: string;
  merchant: ReceiptMerchant;
}
