import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module.js';
import { InvoicesFacade } from './invoices.facade.js';
import { InvoiceOrmEntity } from './persistence/invoice.orm-entity.js';
import { InvoiceEventsHandler } from './webhooks/invoice-events.handler.js';

/** Invoices: the mirror of Stripe invoices (issue 4); receipts and the in-app list build on it. */
@Module({
  imports: [TypeOrmModule.forFeature([InvoiceOrmEntity]), SubscriptionsModule, AccountsModule],
  providers: [InvoiceEventsHandler, InvoicesFacade],
  exports: [InvoicesFacade],
})
export class InvoicesModule {}
