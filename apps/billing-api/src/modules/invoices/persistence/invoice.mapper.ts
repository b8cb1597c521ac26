import type { InvoiceView } from '../contracts/invoice.view.js';
import type { InvoiceOrmEntity } from './invoice.orm-entity.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toInvoiceView(row: InvoiceOrmEntity): InvoiceView {
  return {
    id: row.id,
    accountId: row.accountId,
    stripeInvoiceId: row.stripeInvoiceId,
    stripeSubscriptionId: row.stripeSubscriptionId,
    number: row.number,
    status: row.status,
    billingReason: row.billingReason,
    currency: row.currency,
    amountDue: row.amountDue,
    amountPaid: row.amountPaid,
    amountRemaining: row.amountRemaining,
    total: row.total,
    attemptCount: row.attemptCount,
    nextPaymentAttempt: iso(row.nextPaymentAttempt),
    hostedInvoiceUrl: row.hostedInvoiceUrl,
    invoicePdf: row.invoicePdf,
    periodStart: iso(row.periodStart),
    periodEnd: iso(row.periodEnd),
    paidAt: iso(row.paidAt),
    createdAt: row.stripeCreatedAt.toISOString(),
  };
}
