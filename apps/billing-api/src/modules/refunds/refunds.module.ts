import { type DynamicModule, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PaymentsFacade } from '../payments/payments.facade.js';
import { PaymentsModule } from '../payments/payments.module.js';
import { CreateRefundHandler } from './commands/create-refund/create-refund.handler.js';
import { CreateRefundOutcome } from './http/create-refund.outcome.js';
import { RefundsController } from './http/refunds.controller.js';
import { RefundsJanitor, RefundsJanitorProcessor } from './jobs/refunds-janitor.processor.js';
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
    RefundsJanitor,
    RefundMetrics,
    CountRefundStatusListener,
  ],
  exports: [RefundsFacade, RefundsJanitor],
})
export class RefundsModule implements OnModuleInit {
  constructor(
    private readonly payments: PaymentsFacade,
    private readonly refunds: RefundsFacade,
  ) {}

  /** A payment's detail lists its refunds: payments asks for them through its own contract. */
  onModuleInit(): void {
    this.payments.provideRefundLines(async (paymentId) =>
      (await this.refunds.listForPayment(paymentId)).map((r) => ({
        id: r.id,
        amount: r.amount,
        currency: r.currency,
        status: r.status,
        reason: r.reason,
        note: r.note,
        createdAt: r.createdAt,
      })),
    );
  }
}

/** The refunds janitor's queue consumer: a provider only in worker processes. */
@Module({})
export class RefundsJobsModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: RefundsJobsModule,
      imports: [RefundsModule],
      providers: options.worker ? [RefundsJanitorProcessor] : [],
    };
  }
}
