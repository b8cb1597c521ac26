import { Inject, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../../platform/config/app-config.js';
import { CatalogFacade } from './catalog.facade.js';
import { CATALOGUE } from './catalog.tokens.js';
import { SyncCatalogHandler } from './commands/sync-catalog/sync-catalog.handler.js';
import { loadCatalogFile } from './config/catalog.config.js';
import { PlansController } from './http/plans.controller.js';
import { CatalogPriceOrmEntity } from './persistence/catalog-price.orm-entity.js';
import { PlansQueries } from './queries/plans.queries.js';

/**
 * The plan catalogue (R-PLAN-1/2): plans, prices, seats and features from the operator's file
 * (CATALOG_PATH, checked when the module starts: a bad field stops the process, named), the Stripe
 * products and prices catalogue sync makes from it, `GET /v1/plans`, and {@link CatalogFacade} for the
 * modules that sell plans.
 */
@Module({
  imports: [TypeOrmModule.forFeature([CatalogPriceOrmEntity])],
  controllers: [PlansController],
  providers: [
    {
      provide: CATALOGUE,
      useFactory: (config: AppConfig) => loadCatalogFile(config.catalog.path),
      inject: [AppConfig],
    },
    CatalogFacade,
    PlansQueries,
    SyncCatalogHandler,
  ],
  exports: [CatalogFacade, SyncCatalogHandler],
})
export class CatalogModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('CatalogModule');

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly sync: SyncCatalogHandler,
    private readonly facade: CatalogFacade,
  ) {}

  /**
   * CATALOG_SYNC_ON_START: syncs before the process serves. A failure (Stripe unreachable) is logged and
   * start-up goes on: the last synced prices stay in force, and a plan whose price differs from the
   * file is refused at checkout (`CatalogFacade.resolvePrices`) rather than billed at the old amount.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.catalog.syncOnStart) {
      try {
        await this.sync.execute();
        return;
      } catch (error) {
        this.logger.error({ err: error }, 'catalogue sync at start-up failed; run npm run catalog:sync');
      }
    }
    // Say so at start-up when some plans cannot be sold yet, rather than at the first checkout.
    const unsynced = await this.facade.unsyncedLookupKeys();
    if (unsynced.length > 0) {
      this.logger.warn(
        { lookupKeys: unsynced },
        `${unsynced.length} catalogue price(s) are not in Stripe as ${this.config.catalog.path} says: run npm run catalog:sync (or set CATALOG_SYNC_ON_START=true)`,
      );
    }
  }
}
