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
