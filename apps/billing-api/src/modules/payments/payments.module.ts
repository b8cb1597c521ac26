import { type DynamicModule, Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CreatePaymentHandler } from './commands/create-payment/create-payment.handler.js';
import { SettlePaymentHandler } from './commands/settle-payment/settle-payment.handler.js';
import { CreatePaymentOutcome } from './http/create-payment.outcome.js';
import { PaymentWriter } from './persistence/payment-writer.js';
import { PaymentsController } from './http/payments.controller.js';
import { ManagePaymentMethodsHandler } from './commands/manage-payment-methods/manage-payment-methods.handler.js';
import { PaymentMethodsController } from './http/payment-methods.controller.js';
import { PaymentsJanitor, PaymentsJanitorProcessor } from './jobs/payments-janitor.processor.js';
import { RecordPaymentBalanceProcessor } from './jobs/record-balance.processor.js';
import { RecordBalanceOnCaptureListener } from './listeners/record-balance-on-capture.listener.js';
import { RecordPaymentBalanceHandler } from './commands/record-balance/record-balance.handler.js';
import { CountPaymentStatusListener } from './listeners/count-payment-status.listener.js';
import { PaymentMetrics } from './payment.metrics.js';
import { PaymentsFacade } from './payments.facade.js';
import { PaymentMethodQueries } from './queries/payment-method.queries.js';
import { PaymentQueries } from './queries/payment.queries.js';
import { PaymentMethodOrmEntity } from './persistence/payment-method.orm-entity.js';
import { PaymentStatusHistoryOrmEntity } from './persistence/payment-status-history.orm-entity.js';
import { PaymentOrmEntity } from './persistence/payment.orm-entity.js';
import { PaymentEventsHandler } from './webhooks/payment-events.handler.js';
import { PaymentMethodEventsHandler } from './webhooks/payment-method-events.handler.js';
import { PaymentMirror } from './webhooks/payment-mirror.js';

/** Payments and payment methods: the mirror of PaymentIntents, charges and saved methods (issue 4). */
@Module({
  imports: [
    AccountsModule,
    TypeOrmModule.forFeature([PaymentOrmEntity, PaymentStatusHistoryOrmEntity, PaymentMethodOrmEntity]),
  ],
  controllers: [PaymentMethodsController, PaymentsController],
  providers: [
    PaymentMirror,
    PaymentEventsHandler,
    PaymentMethodEventsHandler,
    PaymentsFacade,
    PaymentMethodQueries,
    ManagePaymentMethodsHandler,
    CreatePaymentHandler,
    SettlePaymentHandler,
    CreatePaymentOutcome,
    PaymentWriter,
    PaymentsJanitor,
    PaymentQueries,
    PaymentMetrics,
    CountPaymentStatusListener,
    RecordBalanceOnCaptureListener,
    RecordPaymentBalanceHandler,
  ],
  exports: [PaymentsFacade, PaymentsJanitor, RecordPaymentBalanceHandler],
})
export class PaymentsModule {}

/** The payments janitor's queue consumer: a provider only in worker processes. */
@Module({})
export class PaymentsJobsModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: PaymentsJobsModule,
      imports: [PaymentsModule],
      providers: options.worker ? [PaymentsJanitorProcessor, RecordPaymentBalanceProcessor] : [],
    };
  }
}
