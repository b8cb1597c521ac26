import { Global, Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { PaymentsModule } from '../payments/payments.module.js';
import { RefundsModule } from '../refunds/refunds.module.js';
import { IssueReceiptHandler } from './commands/issue-receipt/issue-receipt.handler.js';
import { ReceiptsController } from './http/receipts.controller.js';
import { ReceiptsFacade } from './receipts.facade.js';

/**
 * Receipts (R-PAY-4), issued by the payments mirror inside its webhook transaction. Global so that the
 * payments module (which the HTTP part below reads) can use the facade without a module cycle.
 */
@Global()
@Module({
  imports: [NotificationsModule],
  providers: [ReceiptsFacade, IssueReceiptHandler],
  exports: [ReceiptsFacade],
})
export class ReceiptsModule {}

/** `GET /v1/payments/{id}/receipt` and `/receipt.pdf`. */
@Module({
  imports: [ReceiptsModule, AccountsModule, PaymentsModule, RefundsModule],
  controllers: [ReceiptsController],
})
export class ReceiptsHttpModule {}
