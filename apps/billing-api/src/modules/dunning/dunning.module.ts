import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../../platform/config/app-config.js';
import { AccountsModule } from '../accounts/accounts.module.js';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module.js';
import { CloseDunningCaseHandler } from './commands/close-dunning-case/close-dunning-case.handler.js';
import { OpenDunningCaseHandler } from './commands/open-dunning-case/open-dunning-case.handler.js';
import { RetryDunningPaymentHandler } from './commands/retry-dunning-payment/retry-dunning-payment.handler.js';
import { RunDunningStepHandler } from './commands/run-dunning-step/run-dunning-step.handler.js';
import { DunningFacade } from './dunning.facade.js';
import { DunningMetrics } from './dunning.metrics.js';
import { DUNNING_POLICY } from './dunning.tokens.js';
import { AdminDunningController } from './http/admin-dunning.controller.js';
import { DunningController } from './http/dunning.controller.js';
import { DunningBootstrap } from './jobs/dunning.bootstrap.js';
import { DunningCatchUpProcessor } from './jobs/dunning-catch-up.processor.js';
import { DunningScheduler } from './jobs/dunning-scheduler.js';
import { RetryDunningPaymentProcessor } from './jobs/retry-dunning-payment.processor.js';
import { RunDunningStepProcessor } from './jobs/run-dunning-step.processor.js';
import { CloseCaseOnInvoiceSettledListener } from './listeners/close-case-on-invoice-settled.listener.js';
import { CloseCasesOnSubscriptionEndedListener } from './listeners/close-cases-on-subscription-ended.listener.js';
import { OpenCaseOnPaymentFailedListener } from './listeners/open-case-on-payment-failed.listener.js';
import { RetryOnPaymentMethodChangeListener } from './listeners/retry-on-payment-method-change.listener.js';
import { DunningCaseOrmEntity } from './persistence/dunning-case.orm-entity.js';
import { DunningStepOrmEntity } from './persistence/dunning-step.orm-entity.js';
import { DunningTestClockOrmEntity } from './persistence/dunning-test-clock.orm-entity.js';
import { DunningTimeRepository } from './persistence/dunning-time.repository.js';
import { DunningCaseQueries } from './queries/dunning-case.queries.js';
import { InvoiceRetrier } from './stripe/invoice-retrier.js';
import { TestClockEventsHandler } from './webhooks/test-clock-events.handler.js';

/**
 * Dunning (R-DUN, issue 20): a case per unpaid invoice, opened by the invoice mirror's
 * `invoice.payment_failed`, its steps from the configured policy run as Bull jobs with a database
 * record each and a catch-up; retries through Stripe, suspension and reactivation through the
 * subscription machine (SubscriptionsFacade). Publishes `dunning.*` (e-mails listen); entitlements
 * reads the stage through DunningFacade.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([DunningCaseOrmEntity, DunningStepOrmEntity, DunningTestClockOrmEntity]),
    SubscriptionsModule,
    AccountsModule,
  ],
  controllers: [DunningController, AdminDunningController],
  providers: [
    {
      provide: DUNNING_POLICY,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => config.dunning.policy,
    },
    DunningFacade,
    DunningCaseQueries,
    DunningMetrics,
    DunningTimeRepository,
    DunningScheduler,
    OpenDunningCaseHandler,
    RunDunningStepHandler,
    CloseDunningCaseHandler,
    RetryDunningPaymentHandler,
    InvoiceRetrier,
    OpenCaseOnPaymentFailedListener,
    RetryOnPaymentMethodChangeListener,
    CloseCaseOnInvoiceSettledListener,
    CloseCasesOnSubscriptionEndedListener,
    TestClockEventsHandler,
  ],
  exports: [DunningFacade, RunDunningStepHandler, RetryDunningPaymentHandler, DunningScheduler],
})
export class DunningModule {}

/** The dunning queue consumers and the catch-up schedule: providers only in worker processes. */
@Module({})
export class DunningJobsModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: DunningJobsModule,
      imports: [DunningModule],
      providers: options.worker
        ? [RunDunningStepProcessor, RetryDunningPaymentProcessor, DunningCatchUpProcessor, DunningBootstrap]
        : [],
    };
  }
}
