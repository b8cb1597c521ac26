import { type DynamicModule, Module } from '@nestjs/common';
import { DeliverIntegrationEvent } from './commands/deliver-integration-event.js';
import { SweepIntegrationDeliveries } from './commands/sweep-integration-deliveries.js';
import { AdminIntegrationEndpointsController } from './http/admin-integration-endpoints.controller.js';
import { IntegrationsFacade } from './integrations.facade.js';
import { AnnounceStatusChangesListener } from './listeners/announce-status-changes.listener.js';
import {
  DeliverIntegrationEventProcessor,
  SweepIntegrationDeliveriesProcessor,
} from './jobs/integration.processors.js';

/**
 * Outbound integration events (seed 002): recorded by listeners of each payment or refund status
 * change (`payment.status_changed`, `refund.status_changed`), in its transaction, delivered as signed POSTs to the configured endpoints with retries and a delivery log.
 */
@Module({
  controllers: [AdminIntegrationEndpointsController],
  providers: [
    IntegrationsFacade,
    DeliverIntegrationEvent,
    SweepIntegrationDeliveries,
    AnnounceStatusChangesListener,
  ],
  exports: [IntegrationsFacade, DeliverIntegrationEvent, SweepIntegrationDeliveries],
})
export class IntegrationsModule {}

/** The queue consumers of integrations: providers only in worker processes. */
@Module({})
export class IntegrationsJobsModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: IntegrationsJobsModule,
      imports: [IntegrationsModule],
      providers: options.worker
        ? [DeliverIntegrationEventProcessor, SweepIntegrationDeliveriesProcessor]
        : [],
    };
  }
}
