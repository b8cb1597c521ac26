import type Stripe from 'stripe';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import { idOf } from '../../../platform/stripe/stripe-ids.js';

export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** A Stripe invoice as the mirror needs it (API 2026-10-28: the subscription is under `parent`). */
export interface InvoiceValues {
  stripeInvoiceId: string;
  stripeCustomerId: string;
  stripeSubscriptionId: string | null;
  number: string | null;
  status: InvoiceStatus;
  billingReason: string | null;
  currency: string;
  amountDue: number;
  amountPaid: number;
  amountRemaining: number;
  total: number;
  attemptCount: number;
  nextPaymentAttempt: Date | null;
  hostedInvoiceUrl: string | null;
  invoicePdf: string | null;
  periodStart: Date | null;
  periodEnd: Date | null;
  paidAt: Date | null;
  stripeCreatedAt: Date;
}

function date(seconds: number | null | undefined): Date | null {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000) : null;
}

function minor(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new PermanentEventError(
      `invoice.${field} is not an integer amount of minor units`,
      'malformed_payload',
    );
  }
  return value;
}

/**
 * `invoice.*` payload (or a re-read invoice) -> mirror values; null for an invoice without an id or
 * with a preview's (`upcoming_in_…`): `invoice.upcoming` describes a future invoice that does not exist
 * yet, and mirroring it would list a draft that never becomes an invoice.
 */
export function transformStripeInvoice(invoice: Stripe.Invoice): InvoiceValues | null {
  if (typeof invoice.id !== 'string' || invoice.id.length === 0) return null;
  if (invoice.id.startsWith('upcoming_')) return null;
  const status = INVOICE_STATUSES.find((s) => s === invoice.status);
  if (!status) {
    throw new PermanentEventError(
      `invoice ${invoice.id} has unknown status '${String(invoice.status)}'`,
      'malformed_payload',
    );
  }
  const customer = idOf(invoice.customer);
  if (!customer) throw new PermanentEventError(`invoice ${invoice.id} has no customer`, 'malformed_payload');
  const currency = String(invoice.currency ?? '').toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) {
    throw new PermanentEventError(`invoice ${invoice.id} has no ISO currency`, 'malformed_payload');
  }
  const created = date(invoice.created);
  if (!created)
    throw new PermanentEventError(`invoice ${invoice.id} has no created time`, 'malformed_payload');
  return {
    stripeInvoiceId: invoice.id,
    stripeCustomerId: customer,
    stripeSubscriptionId: idOf(invoice.parent?.subscription_details?.subscription),
    number: invoice.number ?? null,
    status,
    billingReason: invoice.billing_reason ?? null,
    currency,
    amountDue: minor(invoice.amount_due, 'amount_due'),
    amountPaid: minor(invoice.amount_paid, 'amount_paid'),
    amountRemaining: minor(invoice.amount_remaining, 'amount_remaining'),
    total: minor(invoice.total, 'total'),
    attemptCount: Number.isSafeInteger(invoice.attempt_count) ? invoice.attempt_count : 0,
    nextPaymentAttempt: date(invoice.next_payment_attempt),
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    invoicePdf: invoice.invoice_pdf ?? null,
    periodStart: date(invoice.period_start),
    periodEnd: date(invoice.period_end),
    paidAt: status === 'paid' ? date(invoice.status_transitions?.paid_at) : null,
    stripeCreatedAt: created,
  };
}
