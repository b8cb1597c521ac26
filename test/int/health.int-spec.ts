import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as delay } from 'node:timers/promises';
import { http, startTestApp, type TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env.js';
import { TcpProxy } from '../support/tcp-proxy.js';

interface Ready {
  status: string;
  details?: Record<string, { status: string }>;
}
interface ReadyError {
  error: { code: string; details?: Ready };
}

/** Polls readiness until it reports the wanted status (bounded: recovery is asynchronous by nature). */
async function readinessBecomes(url: string, status: number): Promise<{ status: number; body: unknown }> {
  let last: { status: number; body: unknown } = { status: 0, body: null };
  for (let i = 0; i < 50; i++) {
    last = await http(url, 'GET', '/health/ready');
    if (last.status === status) return last;
    await delay(100);
  }
  return last;
}

describe('health (R-OPS-1)', () => {
  const db = new URL(TEST_DATABASE_URL);
  const redis = new URL(TEST_REDIS_URL);
  const pgProxy = new TcpProxy(db.hostname, Number(db.port || 5432));
  const redisProxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
  let t: TestApp;

  beforeAll(async () => {
    await pgProxy.start();
    await redisProxy.start();
    const dbUrl = new URL(TEST_DATABASE_URL);
    dbUrl.port = String(pgProxy.port);
    const redisUrl = new URL(TEST_REDIS_URL);
    redisUrl.port = String(redisProxy.port);
    t = await startTestApp({
      role: 'api',
      env: { DATABASE_URL: dbUrl.toString(), REDIS_URL: redisUrl.toString() },
    });
  });
  afterAll(async () => {
    await t.close();
    await pgProxy.stop();
    await redisProxy.stop();
  });

  it('is ready while PostgreSQL and Redis answer', async () => {
    const r = await http<Ready>(t.url, 'GET', '/health/ready');
    expect(r.status).toBe(200);
    expect(r.body.details).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
  });

  it('turns 503 naming PostgreSQL when it goes away, stays alive, and recovers', async () => {
    await pgProxy.stop();
    const down = await readinessBecomes(t.url, 503);
    expect(down.status).toBe(503);
    const body = down.body as ReadyError;
    expect(body.error.code).toBe('service_unavailable');
    expect(body.error.details?.details?.database?.status).toBe('down');
    expect(body.error.details?.details?.redis?.status).toBe('up');
    expect((await http(t.url, 'GET', '/health')).status).toBe(200);
    await pgProxy.start();
    expect((await readinessBecomes(t.url, 200)).status).toBe(200);
  });

  it('turns 503 naming Redis when it goes away, and recovers', async () => {
    await redisProxy.stop();
    const down = await readinessBecomes(t.url, 503);
    expect(down.status).toBe(503);
    expect((down.body as ReadyError).error.details?.details?.redis?.status).toBe('down');
    await redisProxy.start();
    expect((await readinessBecomes(t.url, 200)).status).toBe(200);
  });
});
