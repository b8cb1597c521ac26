import { expect } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { ensureDatabase } from '../../scripts/lib/databases.mjs';

/**
 * Where the integration and e2e tiers find their services. CI and developers may point elsewhere with
 * TEST_DATABASE_URL / TEST_REDIS_URL.
 *
 * Every test file gets its own database, named after the base one (`billing_test_f<hash of the file>`):
 * suites run in parallel, and the workers of one suite sweep tables (webhook inbox, notification outbox,
 * idempotency keys) that another suite's rows would otherwise be in. The global setup drops them all.
 */
export const BASE_TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/1';
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';

function fileKey(): string {
  const testPath = expect.getState().testPath ?? `worker-${process.env.JEST_WORKER_ID ?? '0'}`;
  return createHash('sha1').update(testPath).digest('hex').slice(0, 12);
}

/** This test file's own database. */
export const TEST_DATABASE_URL: string = (() => {
  const url = new URL(BASE_TEST_DATABASE_URL);
  url.pathname = `/${url.pathname.slice(1)}_f${fileKey()}`;
  return url.toString();
})();

let created: Promise<void> | null = null;

/** Creates this file's database once (the apps migrate it when they start). */
export function ensureTestDatabase(): Promise<void> {
  created ??= ensureDatabase(TEST_DATABASE_URL);
  return created;
}

/** The environment every test app starts with; a test may override any variable. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    DB_MIGRATE: 'true',
    DB_POOL_SIZE: '10',
    REDIS_URL: TEST_REDIS_URL,
    // Each app gets its own queues: a job enqueued by one test is not taken by another test's worker.
    QUEUE_PREFIX: `billing-test-${randomUUID().slice(0, 8)}`,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RATE_LIMIT_IP_PER_MINUTE: '100000',
    RATE_LIMIT_ACCOUNT_PER_MINUTE: '100000',
    ...overrides,
  };
}
