import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ReplayEventsHandler } from './commands/replay-events/replay-events.handler.js';
import { StoreStripeEvent } from './commands/store-stripe-event.js';
import { AdminWebhookEventsController } from './http/admin-webhook-events.controller.js';
import { StripeWebhookRoute } from './http/stripe-webhook.route.js';
import { SweepWebhookInboxProcessor } from './jobs/sweep-webhook-inbox.processor.js';
import { WebhookEventsProcessor } from './jobs/webhook-events.processor.js';
import { WebhooksBootstrap } from './jobs/webhooks.bootstrap.js';
import { WebhookEventOrmEntity } from './persistence/webhook-event.orm-entity.js';
import { InboxWriter } from './persistence/inbox-writer.js';
import { InboxQueue } from './processing/inbox-queue.js';
import { InboxSweeper } from './processing/inbox-sweeper.js';
import { ProcessStripeEvent } from './processing/process-stripe-event.js';
import { StripeEventDispatcher } from './processing/stripe-event-dispatcher.js';
import { WebhookEventQueries } from './queries/webhook-event.queries.js';
import { WebhookMetrics } from './webhook.metrics.js';
import { WebhooksFacade } from './webhooks.facade.js';

/**
 * The webhook handlers' dispatch (the dispatcher, the processing step and its metrics) and the facade
 * other modules use to apply a Stripe object through them. A plain module, so that it exists once
 * whoever imports it (WebhooksModule, reconciliation).
 */
@Module({
  imports: [DiscoveryModule, TypeOrmModule.forFeature([WebhookEventOrmEntity])],
  providers: [WebhookMetrics, StripeEventDispatcher, ProcessStripeEvent, WebhooksFacade],
  exports: [WebhookMetrics, StripeEventDispatcher, ProcessStripeEvent, WebhooksFacade],
})
export class WebhooksCoreModule {}

/**
 * Stripe webhooks (R-WH): the intake (verify -> inbox -> queue -> 200; a Fastify route outside Nest's
 * guard chain), the dispatcher that calls the one `@HandlesStripeEvents` handler of each event type in
 * one transaction with the inbox row, the sweeper, and the admin API of the inbox. Queue consumers run
 * only in worker processes.
 */
@Module({})
export class WebhooksModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: WebhooksModule,
      imports: [DiscoveryModule, TypeOrmModule.forFeature([WebhookEventOrmEntity]), WebhooksCoreModule],
      controllers: [AdminWebhookEventsController],
      providers: [
        StripeWebhookRoute, // POST /webhooks/stripe, on Fastify directly (api and all roles)
        InboxQueue,
        InboxWriter,
        StoreStripeEvent,
        InboxSweeper,
        WebhookEventQueries,
        ReplayEventsHandler,
        ...(options.worker ? [WebhookEventsProcessor, SweepWebhookInboxProcessor, WebhooksBootstrap] : []),
      ],
      exports: [WebhooksCoreModule],
    };
  }
}
