import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AccountsModule } from '../accounts/accounts.module.js';
import { CatalogModule } from '../catalog/catalog.module.js';
import { DunningModule } from '../dunning/dunning.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { IntegrationsModule } from '../integrations/integrations.module.js';
import { ACCOUNT_BILLING_SWITCH } from '../subscriptions/contracts/account-billing-switch.js';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module.js';
import { AnnounceVerdictHandler } from './commands/announce-verdict/announce-verdict.handler.js';
import { SetBillingFlagHandler } from './commands/set-billing-flag/set-billing-flag.handler.js';
import { SetBillingRolloutHandler } from './commands/set-billing-rollout/set-billing-rollout.handler.js';
import { EntitlementsFacade } from './entitlements.facade.js';
import { BillingCallsInterceptor } from './http/billing-calls.interceptor.js';
import { AdminBillingController } from './http/admin-billing.controller.js';
import { EntitlementsController } from './http/entitlements.controller.js';
import { RefreshVerdictOnChangeListener } from './listeners/refresh-verdict-on-change.listener.js';
import { RefreshVerdictOnMembersListener } from './listeners/refresh-verdict-on-members.listener.js';
import { BillingSettingsRepository } from './persistence/billing-settings.repository.js';
import { VerdictCache } from './persistence/verdict.cache.js';
import { ComputeVerdictQuery } from './queries/compute-verdict.query.js';
import { GetVerdictQuery } from './queries/get-verdict.query.js';
import { IsBilledQuery } from './queries/is-billed.query.js';

/**
 * Entitlements (R-SM-4, R-PLAN-4/5, R-CORE-5): the verdict API (`GET /v1/accounts/{id}/entitlements`,
 * cached in Redis with an ETag, fail-open), the billing flag and rollout (admin), and the
 * `entitlements.updated` integration event. Listens to every `subscription.*` event and to the dunning
 * steps and closings; reads accounts, subscriptions, dunning and the catalogue through their facades.
 * Refuses every `@BillingCall()` route of an account that is not billed (`BillingCallsInterceptor`).
 * Nothing imports it but the app module.
 */
@Module({
  imports: [
    AccountsModule,
    SubscriptionsModule,
    DunningModule,
    CatalogModule,
    IntegrationsModule,
    NotificationsModule,
  ],
  controllers: [EntitlementsController, AdminBillingController],
  providers: [
    EntitlementsFacade,
    ComputeVerdictQuery,
    GetVerdictQuery,
    VerdictCache,
    BillingSettingsRepository,
    AnnounceVerdictHandler,
    SetBillingFlagHandler,
    SetBillingRolloutHandler,
    RefreshVerdictOnChangeListener,
    RefreshVerdictOnMembersListener,
    IsBilledQuery,
    // Seat changes (subscriptions) ask it before calling Stripe for a member added or removed.
    { provide: ACCOUNT_BILLING_SWITCH, useExisting: IsBilledQuery },
    { provide: APP_INTERCEPTOR, useClass: BillingCallsInterceptor },
  ],
  exports: [EntitlementsFacade],
})
export class EntitlementsModule {}
