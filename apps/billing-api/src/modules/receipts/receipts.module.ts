import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { PaymentsModule } from '../payments/payments.module.js';
import { RefundsModule } from '../refunds/refunds.module.js';
import { IssueInvoiceReceiptHandler } from './commands/issue-invoice-receipt/issue-invoice-receipt.handler.js';
import { IssueReceiptHandler } from './commands/issue-receipt/issue-receipt.handler.js';
import { ReceiptsController } from './http/receipts.controller.js';
import { IssueReceiptOnCaptureListener } from './listeners/issue-receipt-on-capture.listener.js';
import { ReceiptsFacade } from './receipts.facade.js';

/**
 * Receipts (R-PAY-4): issued by a listener of `payment.status_changed` in the transaction that captures
 * a payment, and by the invoice mirror (`ReceiptsFacade.issueForInvoice`) in the transaction that sees a
 * subscription invoice paid; `GET /v1/payments/{id}/receipt` and `/receipt.pdf`, which read payments and
 * refunds.
 */
@Module({
  imports: [NotificationsModule, AccountsModule, PaymentsModule, RefundsModule],
  controllers: [ReceiptsController],
  providers: [ReceiptsFacade, IssueReceiptHandler, IssueInvoiceReceiptHandler, IssueReceiptOnCaptureListener],
  exports: [ReceiptsFacade],
})
export class ReceiptsModule {}
