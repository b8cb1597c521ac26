// Once per test run: a fresh, empty test database (and none of the last run's per-file ones) and an empty
// Redis test database. Plain JavaScript
// because Jest loads global setup outside its module system. The schema is created by the apps the
// tests start, through the same locked migrations production runs (DB_MIGRATE=true in test-env.ts).
import { Redis } from 'ioredis';
import { recreateDatabase } from '../../scripts/lib/databases.mjs';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/1';

export default async function globalSetup() {
  if (globalThis.__billingTestSetupDone) return;
  globalThis.__billingTestSetupDone = true;
  const dbName = new URL(DATABASE_URL).pathname.slice(1);
  // The per-file databases of the last run go too (see test/support/test-env.ts).
  await recreateDatabase(DATABASE_URL, { alsoDropLike: `${dbName}\\_f%` });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
