import { randomUUID } from 'node:crypto';

/**
 * Where the integration and e2e tiers find their services. CI and developers may point elsewhere with
 * TEST_DATABASE_URL / TEST_REDIS_URL; the database is created (fresh) by the global setup.
 */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/1';
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';

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
