/** An invoice as the finance/support view of `GET /v1/subscription` lists it (R-SUB-8): no links, no card. */
export interface RecentInvoiceLine {
  id: string;
  stripeInvoiceId: string;
  number: string | null;
  status: string;
  currency: string;
  total: number;
  amountDue: number;
  amountPaid: number;
  amountRemaining: number;
  periodEnd: string | null;
  paidAt: string | null;
  createdAt: string;
}

/**
 * The query contract through which the finance/support view of the subscription lists the account's
 * recent invoices, newest first. Subscriptions declares it; the invoices module provides it under
 * {@link ACCOUNT_RECENT_INVOICES} (invoices depends on subscriptions, so subscriptions cannot import
 * invoices). Subscriptions resolves it by this token from the whole application at start-up, and
 * refuses to start without it.
 */
export interface AccountRecentInvoices {
  recentForAccount(accountId: string, limit: number): Promise<RecentInvoiceLine[]>;
}

/** The injection token of {@link AccountRecentInvoices}. */
export const ACCOUNT_RECENT_INVOICES = 'billing:account-recent-invoices';
