import { type DynamicModule, Module } from '@nestjs/common';
import { AccountsModule } from './modules/accounts/accounts.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { DunningJobsModule } from './modules/dunning/dunning.module.js';
import { EntitlementsModule } from './modules/entitlements/entitlements.module.js';
import { CatalogModule } from './modules/catalog/catalog.module.js';
import { IntegrationsJobsModule } from './modules/integrations/integrations.module.js';
import { InvoicesModule } from './modules/invoices/invoices.module.js';
import { NotificationsJobsModule } from './modules/notifications/notifications.module.js';
import { ReceiptsModule } from './modules/receipts/receipts.module.js';
import { ReconciliationModule } from './modules/reconciliation/reconciliation.module.js';
import { PaymentsJobsModule, PaymentsModule } from './modules/payments/payments.module.js';
import { RefundsJobsModule, RefundsModule } from './modules/refunds/refunds.module.js';
import { SubscriptionsModule } from './modules/subscriptions/subscriptions.module.js';
import { AuthModule } from './platform/auth/auth.module.js';
import { ClockModule } from './platform/clock/clock.module.js';
import { ConfigModule } from './platform/config/config.module.js';
import type { AppRole } from './platform/config/environment.js';
import { DatabaseModule } from './platform/database/database.module.js';
import { EventsModule } from './platform/events/events.module.js';
import { HealthModule } from './platform/health/health.module.js';
import { HttpPlatformModule } from './platform/http/http.module.js';
import { MetricsModule } from './platform/metrics/metrics.module.js';
import { WebhooksModule } from './modules/webhooks/webhooks.module.js';
import { IdempotencyModule } from './platform/idempotency/idempotency.module.js';
import { QueueModule } from './platform/queue/queue.module.js';
import { RedisModule } from './platform/redis/redis.module.js';
import { StripeModule } from './platform/stripe/stripe.module.js';

export interface AppModuleOptions {
  role: AppRole;
  /** Variables that win over process.env (tests). */
  env?: Record<string, string>;
}

/** Platform and feature modules, nothing else. The role decides whether queue consumers run here. */
@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const worker = options.role !== 'api';
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ ...(options.env ?? {}), APP_ROLE: options.role }),
        ClockModule,
        DatabaseModule,
        EventsModule,
        RedisModule,
        StripeModule,
        QueueModule,
        AuthModule,
        HttpPlatformModule,
        IdempotencyModule.register({ worker }),
        HealthModule,
        MetricsModule,
        AuditModule,
        AccountsModule,
        CatalogModule,
        NotificationsJobsModule.register({ worker }),
        IntegrationsJobsModule.register({ worker }),
        ReceiptsModule,
        PaymentsModule,
        PaymentsJobsModule.register({ worker }),
        RefundsModule,
        RefundsJobsModule.register({ worker }),
        SubscriptionsModule,
        InvoicesModule,
        DunningJobsModule.register({ worker }),
        EntitlementsModule,
        WebhooksModule.register({ worker }),
        ReconciliationModule.register({ worker }),
      ],
    };
  }
}
