import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ReceiptsModule } from '../receipts/receipts.module.js';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module.js';
import { PayOutstandingHandler } from './commands/pay-outstanding/pay-outstanding.handler.js';
import { InvoicesController } from './http/invoices.controller.js';
import { PayOutstandingController } from './http/pay-outstanding.controller.js';
import { InvoicesFacade } from './invoices.facade.js';
import { InvoiceQueries } from './queries/invoice.queries.js';
import { RecentInvoicesForSubscriptions } from './queries/recent-invoices-for-subscriptions.queries.js';
import { ACCOUNT_RECENT_INVOICES } from '../subscriptions/contracts/account-recent-invoices.js';
import { InvoiceOrmEntity } from './persistence/invoice.orm-entity.js';
import { InvoiceEventsHandler } from './webhooks/invoice-events.handler.js';

/**
 * Invoices: the mirror of Stripe invoices (issue 4), the in-app list, detail and PDF (R-SUB-7), and the
 * receipt of a paid subscription invoice (through the receipts facade).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([InvoiceOrmEntity]),
    SubscriptionsModule,
    AccountsModule,
    ReceiptsModule,
  ],
  controllers: [InvoicesController, PayOutstandingController],
  providers: [
    InvoiceEventsHandler,
    InvoicesFacade,
    InvoiceQueries,
    PayOutstandingHandler,
    RecentInvoicesForSubscriptions,
    { provide: ACCOUNT_RECENT_INVOICES, useExisting: RecentInvoicesForSubscriptions },
  ],
  exports: [InvoicesFacade],
})
export class InvoicesModule {}
