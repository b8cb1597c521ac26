import { formatMoney, money } from '@billing/domain';
import type { InvoiceReceiptView } from '../../../receipts/contracts/receipt.view.js';
import type { ReadInvoice } from '../../queries/invoice.queries.js';
import type { CreditBalanceDto, InvoiceDto } from './invoice.dto.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toInvoiceDto(
  invoice: ReadInvoice,
  receipt: InvoiceReceiptView | null,
  locale: string,
): InvoiceDto {
  return {
    id: invoice.id,
    accountId: invoice.accountId,
    stripeInvoiceId: invoice.stripeInvoiceId,
    stripeSubscriptionId: invoice.stripeSubscriptionId,
    number: invoice.number,
    status: invoice.status,
    billingReason: invoice.billingReason,
    currency: invoice.currency,
    total: invoice.total,
    amountDue: invoice.amountDue,
    amountPaid: invoice.amountPaid,
    amountRemaining: invoice.amountRemaining,
    formattedTotal: formatMoney(money(invoice.total, invoice.currency), locale),
    periodStart: iso(invoice.periodStart),
    periodEnd: iso(invoice.periodEnd),
    paidAt: iso(invoice.paidAt),
    createdAt: invoice.stripeCreatedAt.toISOString(),
    hostedInvoiceUrl: invoice.hostedInvoiceUrl,
    receipt: receipt
      ? {
          id: receipt.id,
          number: receipt.number,
          amount: receipt.amount,
          currency: receipt.currency,
          issuedAt: receipt.issuedAt,
        }
      : null,
    source: invoice.source,
  };
}

export function toCreditBalanceDto(
  balance: number,
  currency: string | null,
  locale: string,
): CreditBalanceDto {
  return {
    balance,
    credit: Math.max(0, -balance),
    currency,
    formattedBalance: currency ? formatMoney(money(balance, currency), locale) : null,
  };
}
