import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PaymentsModule } from '../payments/payments.module.js';
import { RefundOrmEntity } from './persistence/refund.orm-entity.js';
import { RefundsFacade } from './refunds.facade.js';
import { RefundEventsHandler } from './webhooks/refund-events.handler.js';

/** Refunds of payments: the mirror of Stripe refunds (issue 4). */
@Module({
  imports: [TypeOrmModule.forFeature([RefundOrmEntity]), PaymentsModule],
  providers: [RefundEventsHandler, RefundsFacade],
  exports: [RefundsFacade],
})
export class RefundsModule {}
