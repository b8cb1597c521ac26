import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PaymentsModule } from '../payments/payments.module.js';
import { CatalogModule } from '../catalog/catalog.module.js';
import { SubscriptionOrmEntity } from './persistence/subscription.orm-entity.js';
import { SubscriptionQuoteOrmEntity } from './persistence/subscription-quote.orm-entity.js';
import { ApplyPlanChangeHandler } from './commands/apply-plan-change/apply-plan-change.handler.js';
import { QuotePlanChangeHandler } from './commands/quote-plan-change/quote-plan-change.handler.js';
import { PlanChangeController } from './http/plan-change.controller.js';
import { PlanQuoteQueries } from './queries/plan-quote.queries.js';
import { PayNowAction } from './stripe/pay-now.action.js';
import { PlanChangeCheck } from './machine/plan-change-check.js';
import { SubscriptionBillingReader } from './stripe/subscription-billing.reader.js';
import { SubscriptionMirror } from './machine/subscription-mirror.js';
import { SubscriptionTransitions } from './machine/subscription-transitions.js';
import { SubscriptionMetrics } from './subscription.metrics.js';
import { SubscriptionsFacade } from './subscriptions.facade.js';
import { ApplyDunningInputHandler } from './commands/apply-dunning-input/apply-dunning-input.handler.js';
import { ChangeCancellationHandler } from './commands/change-cancellation/change-cancellation.handler.js';
import { OpenBillingPortalHandler } from './commands/open-billing-portal/open-billing-portal.handler.js';
import { SubscriptionController } from './http/subscription.controller.js';
import { MembersController } from './http/members.controller.js';
import { SeatsController } from './http/seats.controller.js';
import { AddMemberHandler } from './commands/add-member/add-member.handler.js';
import { RemoveMemberHandler } from './commands/remove-member/remove-member.handler.js';
import { ChangeSeatsHandler } from './commands/change-seats/change-seats.handler.js';
import { SeatChanges } from './machine/seat-changes.js';
import { SeatPriceQueries } from './queries/seat-price.queries.js';
import { CompleteCheckoutHandler } from './commands/start-checkout/complete-checkout.handler.js';
import { StartCheckoutHandler } from './commands/start-checkout/start-checkout.handler.js';
import { StartTrialHandler } from './commands/start-trial/start-trial.handler.js';
import { StripeReader } from './stripe/stripe-reader.js';
import { SubscriptionViewQueries } from './queries/subscription-view.queries.js';
import { SubscriptionEventsHandler } from './webhooks/subscription-events.handler.js';

/** Subscriptions: the mirror of Stripe subscriptions and checkout sessions with the app state (issue 4). */
@Module({
  imports: [
    TypeOrmModule.forFeature([SubscriptionOrmEntity, SubscriptionQuoteOrmEntity]),
    PaymentsModule,
    AccountsModule,
    CatalogModule,
  ],
  controllers: [SubscriptionController, PlanChangeController, MembersController, SeatsController],
  providers: [
    SubscriptionEventsHandler,
    SubscriptionsFacade,
    SubscriptionTransitions,
    SubscriptionMirror,
    SubscriptionMetrics,
    SubscriptionViewQueries,
    ChangeCancellationHandler,
    ApplyDunningInputHandler,
    OpenBillingPortalHandler,
    StartCheckoutHandler,
    CompleteCheckoutHandler,
    StartTrialHandler,
    StripeReader,
    QuotePlanChangeHandler,
    ApplyPlanChangeHandler,
    PlanQuoteQueries,
    PayNowAction,
    PlanChangeCheck,
    SubscriptionBillingReader,
    SeatChanges,
    AddMemberHandler,
    RemoveMemberHandler,
    ChangeSeatsHandler,
    SeatPriceQueries,
  ],
  exports: [SubscriptionsFacade],
})
export class SubscriptionsModule {}
