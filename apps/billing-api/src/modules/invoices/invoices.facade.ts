import type { InvoiceFacts } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource, In, type EntityManager } from 'typeorm';
import { transformStripeInvoice } from './webhooks/transform-stripe-invoice.js';
import type { InvoiceView } from './contracts/invoice.view.js';
import { toInvoiceView } from './persistence/invoice.mapper.js';
import { InvoiceOrmEntity } from './persistence/invoice.orm-entity.js';

/** What other modules may ask of invoices (dunning, receipts, the invoice list build on these). */
@Injectable()
export class InvoicesFacade {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findByStripeId(
    stripeInvoiceId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<InvoiceView | null> {
    const row = await manager.getRepository(InvoiceOrmEntity).findOne({ where: { stripeInvoiceId } });
    return row ? toInvoiceView(row) : null;
  }

  /** The account's invoices, newest first (by Stripe's created time). */
  async listForAccount(
    accountId: string,
    options: { limit?: number } = {},
    manager: EntityManager = this.db.manager,
  ): Promise<InvoiceView[]> {
    const rows = await manager.getRepository(InvoiceOrmEntity).find({
      where: { accountId },
      order: { stripeCreatedAt: 'DESC', id: 'DESC' },
      take: Math.min(Math.max(options.limit ?? 100, 1), 100),
    });
    return rows.map(toInvoiceView);
  }

  /** The subscription's open invoices (unpaid, finalized), oldest first: what dunning retries. */
  async openForSubscription(
    stripeSubscriptionId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<InvoiceView[]> {
    const rows = await manager.getRepository(InvoiceOrmEntity).find({
      where: { stripeSubscriptionId, status: 'open' },
      order: { stripeCreatedAt: 'ASC', id: 'ASC' },
    });
    return rows.map(toInvoiceView);
  }

  /** A Stripe invoice as reconciliation compares it; null for one the mirror does not keep (no id yet). */
  factsFromStripe(invoice: Stripe.Invoice): InvoiceFacts | null {
    const values = transformStripeInvoice(invoice);
    return values ? invoiceFactsOf({ ...values }) : null;
  }

  /** The mirrors of these Stripe invoices. */
  async mirroredFacts(
    stripeInvoiceIds: readonly string[],
    manager: EntityManager = this.db.manager,
  ): Promise<InvoiceFacts[]> {
    if (stripeInvoiceIds.length === 0) return [];
    const rows = await manager
      .getRepository(InvoiceOrmEntity)
      .find({ where: { stripeInvoiceId: In([...stripeInvoiceIds]) } });
    return rows.map(invoiceFactsOf);
  }

  /**
   * One keyset page (by Stripe id) of the mirrors of invoices Stripe created in [from, to) that the
   * reconciliation run `unlistedBy` did not list at Stripe.
   */
  async mirroredFactsPage(
    window: { from: Date; to: Date },
    after: string | null,
    limit: number,
    unlistedBy: string,
    manager: EntityManager = this.db.manager,
  ): Promise<InvoiceFacts[]> {
    const query = manager
      .getRepository(InvoiceOrmEntity)
      .createQueryBuilder('i')
      .where('i.stripeCreatedAt >= :from AND i.stripeCreatedAt < :to', window)
      // Only the mirrors the run's Stripe pass did not list (reconciliation_seen): a few, not every one.
      .andWhere(
        `NOT EXISTS (SELECT 1 FROM reconciliation_seen r WHERE r.run_id = :run
           AND r.object_type = 'invoice' AND r.stripe_id = i.stripe_invoice_id)`,
        { run: unlistedBy },
      )
      .orderBy('i.stripeInvoiceId', 'ASC')
      .limit(limit);
    if (after !== null) query.andWhere('i.stripeInvoiceId > :after', { after });
    return (await query.getMany()).map(invoiceFactsOf);
  }
}

function invoiceFactsOf(row: {
  stripeInvoiceId: string;
  status: string;
  currency: string;
  amountDue: number;
  amountPaid: number;
  amountRemaining: number;
  total: number;
}): InvoiceFacts {
  return {
    stripeId: row.stripeInvoiceId,
    status: row.status,
    currency: row.currency,
    amountDue: row.amountDue,
    amountPaid: row.amountPaid,
    amountRemaining: row.amountRemaining,
    total: row.total,
  };
}
