import { declareDomainEvents, domainEvent } from '../../../platform/events/domain-event.js';

/**
 * What the invoice mirror announces about an invoice's collection (dunning listens). Published in the
 * transaction that applied the Stripe event. Amounts in minor units; instants as ISO strings on the
 * timeline of the invoice's clock (a Stripe test clock's time under a test clock).
 */
export interface InvoiceRef {
  invoiceId: string;
  accountId: string;
  stripeInvoiceId: string;
  stripeCustomerId: string;
  stripeSubscriptionId: string | null;
  amountDue: number;
  amountRemaining: number;
  currency: string;
  hostedInvoiceUrl: string | null;
  /** Why Stripe made the invoice (`subscription_cycle`, `subscription_create`, `manual`, …). */
  billingReason: string | null;
  /** The Stripe test clock the invoice's customer runs on, null on real time. */
  testClockId: string | null;
}

/**
 * An attempt to collect the invoice failed and it is still open. Sent for every `invoice.payment_failed`
 * delivery the mirror accepts (duplicates included): listeners must be idempotent.
 */
export interface InvoicePaymentFailed extends InvoiceRef {
  /** When the attempt failed (the Stripe event's time). */
  failedAt: string;
  attemptCount: number;
}

/** The invoice left `open` for good: paid, voided or marked uncollectible (once per invoice). */
export interface InvoiceSettled extends InvoiceRef {
  outcome: 'paid' | 'voided' | 'uncollectible';
  settledAt: string;
}

declare module '../../../platform/events/domain-event.js' {
  interface DomainEventPayloads {
    'invoice.payment_failed': InvoicePaymentFailed;
    'invoice.settled': InvoiceSettled;
  }
}

export const INVOICE_EVENTS = declareDomainEvents('invoices', ['invoice.payment_failed', 'invoice.settled']);

export const invoicePaymentFailed = (payload: InvoicePaymentFailed) =>
  domainEvent('invoice.payment_failed', payload);
export const invoiceSettled = (payload: InvoiceSettled) => domainEvent('invoice.settled', payload);
