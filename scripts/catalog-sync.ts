/**
 * `npm run catalog:sync`: creates or updates the Stripe products and prices of the plan catalogue
 * (CATALOG_PATH, R-PLAN-2) by lookup key, idempotently: a second run changes nothing. Run it after
 * editing the catalogue file (or set CATALOG_SYNC_ON_START=true).
 *
 *   npm run catalog:sync                 sync, print what changed
 *   npm run catalog:sync -- --dry-run    print what would change, change nothing
 *   npm run catalog:sync -- --json       the report as JSON
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuditModule } from '../apps/billing-api/src/modules/audit/audit.module.js';
import { CatalogModule } from '../apps/billing-api/src/modules/catalog/catalog.module.js';
import { SyncCatalogHandler } from '../apps/billing-api/src/modules/catalog/commands/sync-catalog/sync-catalog.handler.js';
import {
  InvalidCatalogError,
  loadCatalogFile,
} from '../apps/billing-api/src/modules/catalog/config/catalog.config.js';
import { RequestContext } from '../apps/billing-api/src/platform/context/request-context.js';
import { ClockModule } from '../apps/billing-api/src/platform/clock/clock.module.js';
import { ConfigModule } from '../apps/billing-api/src/platform/config/config.module.js';
import {
  InvalidEnvironmentError,
  validateEnvironment,
} from '../apps/billing-api/src/platform/config/environment.js';
import { DatabaseModule } from '../apps/billing-api/src/platform/database/database.module.js';
import { StripeModule } from '../apps/billing-api/src/platform/stripe/stripe.module.js';

const USAGE = `Usage: npm run catalog:sync [-- --dry-run] [--json]

Creates or updates the Stripe products and prices of the plan catalogue (CATALOG_PATH, default
config/catalog.json) by lookup key, through STRIPE_SECRET_KEY / STRIPE_API_BASE, and records the price
ids in the database (DATABASE_URL; pending migrations run first when DB_MIGRATE is on). A second run
changes nothing. A changed amount creates a new price that takes over the lookup key; the old one is
archived (subscriptions on it keep it).

  --dry-run   print what would change; change nothing at Stripe or in the database
  --json      print the report as JSON
  --help      this text
`;

const { values } = parseArgs({
  options: {
    'dry-run': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (existsSync('.env')) process.loadEnvFile('.env');

/** Only what the sync needs: no HTTP, no queues, no Redis. */
@Module({
  imports: [
    ConfigModule.forRoot({ CATALOG_SYNC_ON_START: 'false' }),
    ClockModule,
    DatabaseModule,
    StripeModule,
    AuditModule,
    CatalogModule,
  ],
})
class CatalogSyncModule {}

try {
  // Environment and catalogue first, so that a bad field is reported plainly before anything connects.
  loadCatalogFile(validateEnvironment(process.env).CATALOG_PATH);
  const app = await NestFactory.createApplicationContext(CatalogSyncModule, { logger: ['error', 'warn'] });
  try {
    // Audit records name the script as the actor and share one correlation id.
    const report = await RequestContext.run(
      { correlationId: `catalog-sync-${randomUUID()}`, actor: { type: 'system', id: 'catalog:sync' } },
      () => app.get(SyncCatalogHandler).execute({ dryRun: values['dry-run'] }),
    );
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      for (const c of report.changes) {
        process.stdout.write(
          c.object === 'product'
            ? `product ${c.id}: ${c.action}\n`
            : `price ${c.lookupKey}: ${c.action} ${c.id}${c.previousId ? ` (was ${c.previousId}, archived)` : ''}\n`,
        );
      }
      process.stdout.write(
        `${report.dryRun ? 'dry run: ' : ''}${report.changes.length} change(s), ${report.unchanged} unchanged\n`,
      );
    }
  } finally {
    await app.close();
  }
} catch (error) {
  if (error instanceof InvalidEnvironmentError || error instanceof InvalidCatalogError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
