import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { startBillingService } from './bootstrap.js';
import { InvalidEnvironmentError, validateEnvironment } from './platform/config/environment.js';
import { InvalidCatalogError, loadCatalogFile } from './modules/catalog/config/catalog.config.js';

// Fail fast, naming every bad variable, before anything connects anywhere (R-ARCH-6).
if (existsSync('.env') && process.env.NODE_ENV !== 'test') process.loadEnvFile('.env');
let env;
try {
  env = validateEnvironment(process.env);
} catch (e) {
  if (e instanceof InvalidEnvironmentError) {
    process.stderr.write(`${e.message}\nSee .env.example for every variable and its format.\n`);
    process.exit(1);
  }
  throw e;
}
// The plan catalogue too (R-PLAN-1): a bad field stops the process, named, before it connects.
try {
  loadCatalogFile(env.CATALOG_PATH);
} catch (e) {
  if (e instanceof InvalidCatalogError) {
    process.stderr.write(`${e.message}\nSee config/catalog.json for the format.\n`);
    process.exit(1);
  }
  throw e;
}

startBillingService(env)
  .then(async (running) => {
    if (running.kind === 'http') {
      process.stdout.write(`billing-api (${env.APP_ROLE}) listening on ${await running.app.getUrl()}\n`);
    } else {
      process.stdout.write('billing-worker started\n');
    }
  })
  .catch((e: unknown) => {
    process.stderr.write(`start-up failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
