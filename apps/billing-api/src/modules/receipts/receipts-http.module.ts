import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { PaymentsModule } from '../payments/payments.module.js';
import { RefundsModule } from '../refunds/refunds.module.js';
import { ReceiptsController } from './http/receipts.controller.js';
import { ReceiptsModule } from './receipts.module.js';

/** `GET /v1/payments/{id}/receipt` and `/receipt.pdf`. */
@Module({
  imports: [ReceiptsModule, AccountsModule, PaymentsModule, RefundsModule],
  controllers: [ReceiptsController],
})
export class ReceiptsHttpModule {}
