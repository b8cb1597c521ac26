// Once per test run: a fresh, empty test database (and none of the last run's per-file ones) and an empty
// Redis test database. Plain JavaScript
// because Jest loads global setup outside its module system. The schema is created by the apps the
// tests start, through the same locked migrations production runs (DB_MIGRATE=true in test-env.ts).
import { Redis } from 'ioredis';
import pg from 'pg';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/1';

export default async function globalSetup() {
  if (globalThis.__billingTestSetupDone) return;
  globalThis.__billingTestSetupDone = true;
  const dbName = new URL(DATABASE_URL).pathname.slice(1);
  if (!/^[a-z_][a-z0-9_]*$/.test(dbName)) throw new Error(`unsafe test database name ${dbName}`);
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${dbName}`);
    // The per-file databases of the last run (see test/support/test-env.ts).
    const old = await client.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
      `${dbName}\\_f%`,
    ]);
    for (const row of old.rows) await client.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
