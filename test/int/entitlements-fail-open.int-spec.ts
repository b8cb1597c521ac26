import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { insertSubscription, type EntitlementVerdictBody } from './entitlements.support.js';
import { createAccount } from './webhooks.support.js';

// R-CORE-5: the verdict never fails for want of Redis or PostgreSQL. The app reaches both through TCP
// proxies that the test stops (the shared servers are untouched).
describe('entitlements: fail-safe without Redis or PostgreSQL', () => {
  const db = new URL(TEST_DATABASE_URL);
  const redis = new URL(TEST_REDIS_URL);
  const pgProxy = new TcpProxy(db.hostname, Number(db.port || 5432));
  const redisProxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
  let t: TestApp;
  let direct: DataSource;
  let accountId: string;
  let owner: string;

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
    // The test's own connection, not through the proxy.
    direct = await new DataSource({ type: 'postgres', url: TEST_DATABASE_URL }).initialize();
    await direct.query(`UPDATE billing_settings SET rollout_percent = 100`);
    accountId = await createAccount(t.url, await tokenFor({ sub: 'admin-1', role: 'admin' }));
    owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId });
    await insertSubscription(direct, accountId, {
      state: 'suspended',
      pastDueSince: new Date(),
      currentPeriodEnd: new Date(Date.now() + 86_400_000),
    });
  });
  afterAll(async () => {
    await t.close();
    await direct.destroy();
    await pgProxy.stop();
    await redisProxy.stop();
  });

  const verdict = () =>
    http<EntitlementVerdictBody>(t.url, 'GET', `/v1/accounts/${accountId}/entitlements`, { token: owner });

  it('without Redis: computed from PostgreSQL, the real verdict', async () => {
    await redisProxy.stop();
    try {
      const res = await verdict();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-entitlements-cache')).toBe('miss');
      expect(res.body).toMatchObject({ accessMode: 'read_only', basis: 'subscription', state: 'suspended' });
    } finally {
      await redisProxy.start();
    }
  });

  it('without PostgreSQL (nothing cached): 200, access granted, and why', async () => {
    await pgProxy.stop();
    try {
      const res = await verdict();
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        accountId,
        accessMode: 'full',
        basis: 'fail_open',
        reason: 'state_unavailable',
        tier: 'business',
        billing: { enabled: null, accountFlag: null, rolloutPercent: null },
        limits: { seats: { total: null, used: null } },
      });
    } finally {
      await pgProxy.start();
    }
  });

  it('without both: 200 fail-open; once they are back, the real verdict again', async () => {
    await redisProxy.stop();
    await pgProxy.stop();
    try {
      const res = await verdict();
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accessMode: 'full', basis: 'fail_open', reason: 'state_unavailable' });
    } finally {
      await pgProxy.start();
      await redisProxy.start();
    }
    let back: EntitlementVerdictBody | null = null;
    for (let i = 0; i < 50 && back?.basis !== 'subscription'; i++) {
      back = (await verdict()).body;
      if (back.basis !== 'subscription') await new Promise((r) => setTimeout(r, 100));
    }
    expect(back).toMatchObject({ accessMode: 'read_only', basis: 'subscription' });
  });
});
