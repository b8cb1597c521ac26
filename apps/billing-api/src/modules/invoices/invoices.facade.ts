import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
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
}
