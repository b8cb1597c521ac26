import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { InvoicesModule } from '../invoices/invoices.module.js';
import { PaymentsModule } from '../payments/payments.module.js';
import { RefundsModule } from '../refunds/refunds.module.js';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module.js';
import { WebhooksCoreModule } from '../webhooks/webhooks.module.js';
import { ResolveFindingHandler } from './commands/resolve-finding/resolve-finding.handler.js';
import { RunReconciliationHandler } from './commands/run-reconciliation/run-reconciliation.handler.js';
import { StartRunHandler } from './commands/start-run/start-run.handler.js';
import { ReconciliationController } from './http/reconciliation.controller.js';
import { ReconciliationProcessor } from './jobs/reconciliation.processor.js';
import { ReconciliationFindingOrmEntity } from './persistence/reconciliation-finding.orm-entity.js';
import { ReconciliationRunOrmEntity } from './persistence/reconciliation-run.orm-entity.js';
import { ReconciliationQueries } from './queries/reconciliation.queries.js';
import { ReconciliationMetrics } from './reconciliation.metrics.js';

/**
 * Reconciliation with Stripe (R-REC, issue 21): the hourly run and the admin's runs compare Stripe's
 * subscriptions, invoices and PaymentIntents with the mirrors, repair safe drifts through the webhook
 * handlers and keep unsafe ones for an admin. The run consumer exists only in worker processes.
 */
@Module({})
export class ReconciliationModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: ReconciliationModule,
      imports: [
        TypeOrmModule.forFeature([ReconciliationRunOrmEntity, ReconciliationFindingOrmEntity]),
        SubscriptionsModule,
        InvoicesModule,
        PaymentsModule,
        RefundsModule,
        WebhooksCoreModule,
      ],
      controllers: [ReconciliationController],
      providers: [
        RunReconciliationHandler,
        StartRunHandler,
        ResolveFindingHandler,
        ReconciliationQueries,
        ReconciliationMetrics,
        ...(options.worker ? [ReconciliationProcessor] : []),
      ],
    };
  }
}
