import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PAYMENT_REFUND_LINES } from '../payments/contracts/payment-refund-lines.js';
import { PaymentsModule } from '../payments/payments.module.js';
import { CreateRefundHandler } from './commands/create-refund/create-refund.handler.js';
import { CreateRefundOutcome } from './http/create-refund.outcome.js';
import { RefundsController } from './http/refunds.controller.js';
import { RecordRefundBalanceHandler } from './commands/record-refund-balance/record-refund-balance.handler.js';
import { RecordRefundBalanceProcessor } from './jobs/record-refund-balance.processor.js';
import { RefundsJanitor, RefundsJanitorProcessor } from './jobs/refunds-janitor.processor.js';
import { RefundLinesForPayments } from './queries/refund-lines-for-payments.queries.js';
import { RefundQueries } from './queries/refund.queries.js';
import { RefundOrmEntity } from './persistence/refund.orm-entity.js';
import { RefundStatusPublisher } from './persistence/refund-status.publisher.js';
import { CountRefundStatusListener } from './listeners/count-refund-status.listener.js';
import { RefundMetrics } from './refund.metrics.js';
import { RefundsFacade } from './refunds.facade.js';
import { RefundEventsHandler } from './webhooks/refund-events.handler.js';

/** Refunds of payments: the mirror of Stripe refunds (issue 4). */
@Module({
  imports: [TypeOrmModule.forFeature([RefundOrmEntity]), PaymentsModule],
  controllers: [RefundsController],
  providers: [
    RefundEventsHandler,
    RefundsFacade,
    CreateRefundHandler,
    CreateRefundOutcome,
    RefundStatusPublisher,
    RefundQueries,
    RefundLinesForPayments,
    { provide: PAYMENT_REFUND_LINES, useExisting: RefundLinesForPayments },
    RefundsJanitor,
    RecordRefundBalanceHandler,
    RefundMetrics,
    CountRefundStatusListener,
  ],
  exports: [RefundsFacade, RefundsJanitor, RecordRefundBalanceHandler],
})
export class RefundsModule {}

/** The refunds' queue consumers (the janitor, the fee reads): providers only in worker processes. */
@Module({})
export class RefundsJobsModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: RefundsJobsModule,
      imports: [RefundsModule],
      providers: options.worker ? [RefundsJanitorProcessor, RecordRefundBalanceProcessor] : [],
    };
  }
}
