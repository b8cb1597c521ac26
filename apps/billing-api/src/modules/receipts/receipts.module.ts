import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { IssueReceiptHandler } from './commands/issue-receipt/issue-receipt.handler.js';
import { ReceiptsFacade } from './receipts.facade.js';

/**
 * Receipts (R-PAY-4), issued in the transaction that captures a payment: the payments module imports
 * this one. The HTTP part, which reads payments and refunds, is `ReceiptsHttpModule` in its own file,
 * so that neither the modules nor their files form a cycle.
 */
@Module({
  imports: [NotificationsModule],
  providers: [ReceiptsFacade, IssueReceiptHandler],
  exports: [ReceiptsFacade],
})
export class ReceiptsModule {}
