import { Injectable } from '@nestjs/common';
import type {
  AccountRecentInvoices,
  RecentInvoiceLine,
} from '../../subscriptions/contracts/account-recent-invoices.js';
import { InvoicesFacade } from '../invoices.facade.js';

/**
 * The account's recent invoices for the finance/support view of the subscription (R-SUB-8), through the
 * invoices facade: the subscriptions module's query contract, provided here (invoices depends on
 * subscriptions, not the other way round).
 */
@Injectable()
export class RecentInvoicesForSubscriptions implements AccountRecentInvoices {
  constructor(private readonly invoices: InvoicesFacade) {}

  async recentForAccount(accountId: string, limit: number): Promise<RecentInvoiceLine[]> {
    const invoices = await this.invoices.listForAccount(accountId, { limit });
    return invoices.map((i) => ({
      id: i.id,
      stripeInvoiceId: i.stripeInvoiceId,
      number: i.number,
      status: i.status,
      currency: i.currency,
      total: i.total,
      amountDue: i.amountDue,
      amountPaid: i.amountPaid,
      amountRemaining: i.amountRemaining,
      periodEnd: i.periodEnd,
      paidAt: i.paidAt,
      createdAt: i.createdAt,
    }));
  }
}
