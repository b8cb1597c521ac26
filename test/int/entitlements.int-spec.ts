import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deriveEntitlements, rolloutBucket, SUBSCRIPTION_STATES } from '@billing/domain';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { CatalogFacade } from '../../apps/billing-api/src/modules/catalog/catalog.facade.js';
import { VerdictCache } from '../../apps/billing-api/src/modules/entitlements/persistence/verdict.cache.js';
import { verifySignature } from '../../apps/billing-api/src/modules/integrations/signature.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env.js';
import {
  insertCompletedCheckout,
  insertSubscription,
  type EntitlementVerdictBody,
} from './entitlements.support.js';
import {
  accountWithCustomer,
  attachMethod,
  startPaymentsWorld,
  type PaymentsWorld,
} from './payments-support.js';
import { allWebhooksSettled } from './plan-change.support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { auditCount, createAccount, until } from './webhooks.support.js';

const DAY = 24 * 60 * 60 * 1000;

// One file, suites in sequence: the rollout percentage is global, and every suite here reads it.

// R-SM-4, R-PLAN-4/5, R-CORE-5 through the real app: the verdict for every state x flag x seats as the
// domain derives it, the cache with its generations and ETag, the billing flag and the rollout.
describe('entitlements: the verdict API, its cache, the billing flag and rollout', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp({ role: 'api' });
    admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
    await t.db.query(`UPDATE billing_settings SET rollout_percent = 100`);
  });
  afterAll(async () => {
    await t.db.query(`UPDATE billing_settings SET rollout_percent = 100`);
    await t.close();
  });

  const verdict = (accountId: string, token: string, headers: Record<string, string> = {}) =>
    http<EntitlementVerdictBody>(t.url, 'GET', `/v1/accounts/${accountId}/entitlements`, { token, headers });

  const setFlag = (accountId: string, billingEnabled: boolean, key: string | null = randomUUID()) =>
    http<Record<string, unknown>>(t.url, 'PATCH', `/v1/admin/accounts/${accountId}/billing`, {
      token: admin,
      body: { billingEnabled },
      headers: key ? { 'idempotency-key': key } : {},
    });

  const setRollout = (percent: unknown, key: string | null = randomUUID(), token = admin) =>
    http<Record<string, unknown>>(t.url, 'PUT', '/v1/admin/billing-rollout', {
      token,
      body: { percent },
      headers: key ? { 'idempotency-key': key } : {},
    });

  async function account(): Promise<{ id: string; owner: string; member: string }> {
    const id = await createAccount(t.url, admin);
    return {
      id,
      owner: await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId: id }),
      member: await tokenFor({ sub: `member-${randomUUID()}`, role: 'member', accountId: id }),
    };
  }

  describe('the verdict of every state x flag x seats is the domain’s', () => {
    const cases = SUBSCRIPTION_STATES.flatMap((state) =>
      [true, false].flatMap((billingEnabled) => [0, 3].map((seats) => ({ state, billingEnabled, seats }))),
    );

    it.each(cases)(
      '$state, billing $billingEnabled, $seats extra seats',
      async ({ state, billingEnabled, seats }) => {
        const a = await account();
        const flagged = billingEnabled ? 200 : (await setFlag(a.id, false)).status;
        expect(flagged).toBe(200);
        const now = t.clock.now();
        const dates = {
          currentPeriodEnd: new Date(now.getTime() + 20 * DAY),
          trialEnd: state === 'trialing' ? new Date(now.getTime() + 10 * DAY) : null,
          pastDueSince:
            state === 'past_due' || state === 'suspended' ? new Date(now.getTime() - 2 * DAY) : null,
        };
        await insertSubscription(t.db, a.id, {
          state,
          seats,
          cancelAtPeriodEnd: state === 'canceled_pending',
          ...dates,
        });
        const expected = deriveEntitlements({
          catalogue: t.app.get(CatalogFacade).catalogue(),
          planId: 'pro',
          state,
          purchasedSeats: seats,
          flags: { billingEnabled },
          now,
          currentPeriodEnd: dates.currentPeriodEnd,
          ...(dates.trialEnd ? { trialEnd: dates.trialEnd } : {}),
          ...(dates.pastDueSince ? { pastDueSince: dates.pastDueSince } : {}),
        });
        const res = await verdict(a.id, a.owner);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          accountId: a.id,
          tier: expected.tier,
          features: [...expected.features].sort(),
          limits: { seats: { total: expected.seatLimit, used: 1 } },
          accessMode: expected.accessMode,
          banners: expected.banners,
          basis: expected.basis,
          reason: billingEnabled ? 'subscription_state' : 'billing_flag_off',
          state,
          billing: { enabled: billingEnabled, accountFlag: billingEnabled, rolloutPercent: 100 },
          dunningStage: null,
        });
        const next = !billingEnabled
          ? null
          : state === 'trialing'
            ? { kind: 'trial_end', at: dates.trialEnd?.toISOString(), planId: null }
            : state === 'canceled_pending'
              ? { kind: 'cancellation', at: dates.currentPeriodEnd.toISOString(), planId: 'free' }
              : null;
        expect(res.body.nextChange).toEqual(next);
      },
    );

    it('an account that never subscribed is on Free; a scheduled downgrade is the next change', async () => {
      const a = await account();
      expect((await verdict(a.id, a.member)).body).toMatchObject({
        tier: 'free',
        features: ['core'],
        limits: { seats: { total: 1, used: 1 } },
        basis: 'subscription',
        reason: 'no_subscription',
        state: null,
        nextChange: null,
      });

      const b = await account();
      const at = new Date(t.clock.now().getTime() + 5 * DAY);
      await insertSubscription(t.db, b.id, {
        state: 'active',
        planId: 'business',
        currentPeriodEnd: at,
        pending: { planId: 'pro', effectiveAt: at },
      });
      expect((await verdict(b.id, b.owner)).body).toMatchObject({
        tier: 'business',
        banners: [{ kind: 'downgrade_scheduled', planId: 'pro', at: at.toISOString() }],
        nextChange: { kind: 'downgrade', at: at.toISOString(), planId: 'pro' },
      });
    });
  });

  it('answers owners and members of the account and staff of any; another account’s: 404', async () => {
    const a = await account();
    const other = await account();
    expect((await verdict(a.id, a.owner)).status).toBe(200);
    expect((await verdict(a.id, a.member)).status).toBe(200);
    for (const role of ['finance', 'support', 'admin'] as const) {
      expect((await verdict(a.id, await tokenFor({ sub: `${role}-1`, role }))).status).toBe(200);
    }
    expect((await verdict(a.id, other.owner)).status).toBe(404);
    expect((await verdict(a.id, other.member)).status).toBe(404);
    expect((await verdict(randomUUID(), admin)).status).toBe(404);
    expect((await verdict('not-a-uuid', admin)).status).toBe(400);
    expect((await http(t.url, 'GET', `/v1/accounts/${a.id}/entitlements`)).status).toBe(401);
  });

  it('serves from the cache with an ETag; If-None-Match gives 304', async () => {
    const a = await account();
    const first = await verdict(a.id, a.owner);
    expect(first.headers.get('x-entitlements-cache')).toBe('miss');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const second = await verdict(a.id, a.member);
    expect(second.headers.get('x-entitlements-cache')).toBe('hit');
    expect(second.headers.get('etag')).toBe(etag);
    expect(second.body).toEqual(first.body);

    const notModified = await verdict(a.id, a.owner, { 'if-none-match': etag ?? '' });
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBeNull();
    expect(notModified.headers.get('etag')).toBe(etag);
    expect((await verdict(a.id, a.owner, { 'if-none-match': `W/${etag}, "other"` })).status).toBe(304);
    expect((await verdict(a.id, a.owner, { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('never serves a verdict computed before an invalidation, even one cached after it (generations)', async () => {
    const a = await account();
    await insertSubscription(t.db, a.id, { state: 'active', currentPeriodEnd: new Date(Date.now() + DAY) });
    const cache = t.app.get(VerdictCache);
    const old = await verdict(a.id, a.owner);
    expect(old.body.accessMode).toBe('full');

    // A slow reader saw the generations, then read the database before the change committed...
    const seen = (await cache.read(a.id)).generations;
    const stale = { etag: '"stale"', verdict: old.body as never };
    // ...the change commits and is invalidated...
    await t.db.query(`UPDATE subscriptions SET state = 'suspended' WHERE account_id = $1`, [a.id]);
    await cache.invalidate(a.id);
    // ...and only then the slow reader caches what it computed from the old state.
    await cache.store(a.id, seen, stale);
    const after = await verdict(a.id, a.owner);
    expect(after.headers.get('x-entitlements-cache')).toBe('miss');
    expect(after.headers.get('etag')).not.toBe('"stale"');
    expect(after.body).toMatchObject({ accessMode: 'read_only', state: 'suspended' });

    // Control: an entry stored under the current generations is served as it is.
    await cache.store(a.id, (await cache.read(a.id)).generations, stale);
    const served = await verdict(a.id, a.owner);
    expect(served.headers.get('etag')).toBe('"stale"');
  });

  it('fails open while a completed Checkout has no mirrored subscription yet, and says why', async () => {
    const a = await account();
    const stripeSubscriptionId = `sub_${randomUUID().slice(0, 12)}`;
    await insertCompletedCheckout(t.db, a.id, stripeSubscriptionId);
    const uncertain = await verdict(a.id, a.owner);
    expect(uncertain.status).toBe(200);
    expect(uncertain.body).toMatchObject({
      tier: 'business',
      accessMode: 'full',
      basis: 'fail_open',
      reason: 'checkout_not_mirrored',
      limits: { seats: { total: null, used: 1 } },
    });
    // Not cached: the mirror's arrival shows at once.
    expect((await verdict(a.id, a.owner)).headers.get('x-entitlements-cache')).toBe('miss');
    await insertSubscription(t.db, a.id, {
      state: 'active',
      stripeSubscriptionId,
      currentPeriodEnd: new Date(Date.now() + DAY),
    });
    expect((await verdict(a.id, a.owner)).body).toMatchObject({
      tier: 'pro',
      basis: 'subscription',
      reason: 'subscription_state',
    });
  });

  describe('the billing flag (R-PLAN-5)', () => {
    it('turns billing off and on: audited, the verdict invalidated and announced', async () => {
      const a = await account();
      await insertSubscription(t.db, a.id, {
        state: 'suspended',
        pastDueSince: new Date(),
        currentPeriodEnd: new Date(Date.now() + DAY),
      });
      expect((await verdict(a.id, a.owner)).body.accessMode).toBe('read_only');
      expect((await verdict(a.id, a.owner)).headers.get('x-entitlements-cache')).toBe('hit');

      expect((await setFlag(a.id, false, null)).body).toMatchObject({
        error: { code: 'idempotency_key_required' },
      });
      const key = randomUUID();
      const off = await setFlag(a.id, false, key);
      expect(off).toMatchObject({
        status: 200,
        body: { accountId: a.id, billingEnabled: false, rolloutPercent: 100, inRollout: true, billed: false },
      });
      // The same key replays; nothing is written twice.
      expect((await setFlag(a.id, false, key)).body).toEqual(off.body);
      expect(await auditCount(t.db, 'account.billing_disabled', a.id)).toBe(1);

      const disabled = await verdict(a.id, a.owner);
      expect(disabled.headers.get('x-entitlements-cache')).toBe('miss');
      expect(disabled.body).toMatchObject({
        tier: 'business',
        accessMode: 'full',
        basis: 'billing_disabled',
        reason: 'billing_flag_off',
        billing: { enabled: false, accountFlag: false },
      });
      const events = await t.db.query<{ payload: EntitlementVerdictBody }[]>(
        `SELECT payload FROM integration_events WHERE account_id = $1 AND type = 'entitlements.updated'
          ORDER BY created_at`,
        [a.id],
      );
      expect(events.map((e) => e.payload)).toEqual([disabled.body]);

      expect((await setFlag(a.id, true)).body).toMatchObject({ billingEnabled: true, billed: true });
      expect(await auditCount(t.db, 'account.billing_enabled', a.id)).toBe(1);
      expect((await verdict(a.id, a.owner)).body).toMatchObject({
        accessMode: 'read_only',
        basis: 'subscription',
      });
    });

    it('refuses bad input, unknown accounts and non-admins', async () => {
      const a = await account();
      expect(
        (
          await http(t.url, 'PATCH', `/v1/admin/accounts/${a.id}/billing`, {
            token: admin,
            body: { billingEnabled: 'no' },
            headers: { 'idempotency-key': randomUUID() },
          })
        ).body,
      ).toMatchObject({ error: { code: 'validation_failed' } });
      expect((await setFlag(randomUUID(), false)).status).toBe(404);
      const finance = await tokenFor({ sub: 'finance-1', role: 'finance' });
      expect(
        (
          await http(t.url, 'PATCH', `/v1/admin/accounts/${a.id}/billing`, {
            token: finance,
            body: { billingEnabled: false },
            headers: { 'idempotency-key': randomUUID() },
          })
        ).status,
      ).toBe(403);
      expect((await verdict(a.id, a.owner)).body.billing.accountFlag).toBe(true);
    });
  });

  describe('the rollout (R-PLAN-5)', () => {
    it('validates the percentage and who may set it', async () => {
      for (const bad of [101, -1, 30.5, '30', null]) {
        const res = await setRollout(bad);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: { code: 'validation_failed' } });
      }
      expect((await setRollout(30, null)).body).toMatchObject({
        error: { code: 'idempotency_key_required' },
      });
      const support = await tokenFor({ sub: 'support-1', role: 'support' });
      expect((await setRollout(30, randomUUID(), support)).status).toBe(403);
      const [row] = await t.db.query<{ p: number }[]>(`SELECT rollout_percent AS p FROM billing_settings`);
      expect(row?.p).toBe(100);
    });

    it('keeps an account in its bucket as the percentage grows; out of it, access is full', async () => {
      // Accounts until one is in at 30% and one is out at 30% but in by 60% (in from its bucket + 1).
      let inside: Awaited<ReturnType<typeof account>> | undefined;
      let later: Awaited<ReturnType<typeof account>> | undefined;
      for (let i = 0; i < 60 && !(inside && later); i++) {
        const a = await account();
        const bucket = rolloutBucket(a.id);
        if (bucket < 30 && !inside) inside = a;
        else if (bucket >= 30 && bucket < 60 && !later) later = a;
      }
      if (!inside || !later) throw new Error('no accounts in the wanted buckets');
      for (const a of [inside, later]) {
        await insertSubscription(t.db, a.id, {
          state: 'active',
          currentPeriodEnd: new Date(Date.now() + DAY),
        });
        expect((await verdict(a.id, a.owner)).headers.get('x-entitlements-cache')).toBe('miss');
        expect((await verdict(a.id, a.owner)).headers.get('x-entitlements-cache')).toBe('hit');
      }

      const to30 = await setRollout(30);
      expect(to30.body).toMatchObject({ percent: 30, previousPercent: 100 });
      expect(to30.body.accountsMoved).toBeGreaterThanOrEqual(1);
      // The account moved out is announced with its new verdict; the one that stays in is not.
      const reasons = async (accountId: string) =>
        (
          await t.db.query<{ reason: string }[]>(
            `SELECT payload->>'reason' AS reason FROM integration_events
              WHERE account_id = $1 AND type = 'entitlements.updated' ORDER BY created_at`,
            [accountId],
          )
        ).map((r) => r.reason);
      expect(await reasons(later.id)).toEqual(['outside_rollout']);
      expect(await reasons(inside.id)).toEqual([]);
      expect(await auditCount(t.db, 'billing.rollout_changed', 'rollout')).toBeGreaterThanOrEqual(1);
      // Every cached verdict is invalidated (a global generation).
      const out = await verdict(later.id, later.owner);
      expect(out.headers.get('x-entitlements-cache')).toBe('miss');
      expect(out.body).toMatchObject({
        tier: 'business',
        basis: 'billing_disabled',
        reason: 'outside_rollout',
        billing: { enabled: false, accountFlag: true, rolloutPercent: 30 },
      });

      for (const percent of [30, 40, 60, 100]) {
        const set = percent === 30 ? 200 : (await setRollout(percent)).status;
        expect(set).toBe(200);
        const res = await verdict(inside.id, inside.owner);
        expect(res.headers.get('x-entitlements-cache')).toBe('miss');
        expect(res.body).toMatchObject({
          tier: 'pro',
          basis: 'subscription',
          billing: { enabled: true, rolloutPercent: percent },
        });
        const laterIn = (await verdict(later.id, later.owner)).body.billing.enabled;
        expect(laterIn).toBe(rolloutBucket(later.id) < percent);
      }
      // Moved out at 30%, back in once the percentage passed its bucket (the test clock stands still).
      expect((await reasons(later.id)).sort()).toEqual(['outside_rollout', 'subscription_state']);
      expect(await reasons(inside.id)).toEqual([]);
    });
  });
});

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

  /** Waits until the app reports PostgreSQL and Redis up again (reconnection is asynchronous). */
  const servicesBack = () =>
    until(async () => (await http(t.url, 'GET', '/health/ready')).status === 200, 'the services back');

  it('without Redis: computed from PostgreSQL, the real verdict', async () => {
    await redisProxy.stop();
    try {
      const res = await verdict();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-entitlements-cache')).toBe('miss');
      expect(res.body).toMatchObject({ accessMode: 'read_only', basis: 'subscription', state: 'suspended' });
    } finally {
      await redisProxy.start();
      await servicesBack();
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
      await servicesBack();
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
      await servicesBack();
    }
    // The fail-open verdict was not cached: the real one is back at once.
    expect((await verdict()).body).toMatchObject({ accessMode: 'read_only', basis: 'subscription' });
  });
});

// The verdict follows the subscription through the real paths (the emulator's signed webhooks, the
// cancel command): the cached verdict is invalidated by the first request after the change commits,
// and each change goes out as a signed `entitlements.updated` integration event with the new verdict.
describe('entitlements: invalidated by subscription changes, announced to integrations', () => {
  let w: PaymentsWorld;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;
  /** A local receiver of the outbound events. */
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  let endpoint: { id: string; secret: string };

  beforeAll(async () => {
    // The receiver of the integration events listens on this machine: allowed for the test only.
    w = await startPaymentsWorld({ INTEGRATIONS_ALLOW_PRIVATE_TARGETS: 'true' });
    prices = await createCatalogue(w.stripe);
    await w.t.db.query(`UPDATE billing_settings SET rollout_percent = 100`);
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    const created = await http<{ id: string; secret: string }>(
      w.t.url,
      'POST',
      '/v1/admin/integration-endpoints',
      { token: w.admin, body: { url: `http://127.0.0.1:${port}/hooks`, description: 'entitlements' } },
    );
    if (created.status !== 201) throw new Error(`endpoint creation answered ${created.status}`);
    endpoint = created.body;
  });
  afterAll(async () => {
    if (endpoint) {
      await http(w.t.url, 'DELETE', `/v1/admin/integration-endpoints/${endpoint.id}`, { token: w.admin });
    }
    await w?.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const verdict = (accountId: string, token: string) =>
    http<EntitlementVerdictBody>(w.t.url, 'GET', `/v1/accounts/${accountId}/entitlements`, { token });

  const announced = (accountId: string) =>
    w.t.db.query<{ payload: EntitlementVerdictBody }[]>(
      `SELECT payload FROM integration_events WHERE account_id = $1 AND type = 'entitlements.updated'
        ORDER BY created_at`,
      [accountId],
    );

  it('a webhook-mirrored subscription and a cancellation each invalidate the verdict and announce it', async () => {
    const a = await accountWithCustomer(w);
    const free = await verdict(a.accountId, a.owner);
    expect(free.body).toMatchObject({ tier: 'free', reason: 'no_subscription' });
    expect((await verdict(a.accountId, a.member)).headers.get('x-entitlements-cache')).toBe('hit');

    const pm = await attachMethod(w, a, 'pm_card_visa');
    await w.stripe.customers.update(a.customerId, { invoice_settings: { default_payment_method: pm } });
    await w.stripe.subscriptions.create({
      customer: a.customerId,
      items: [{ price: prices.proMonth }, { price: prices.proMonthSeat, quantity: 2 }],
    });
    // The webhook's transaction activates the subscription; the first verdict after it is the new one.
    const active = await until(async () => {
      const res = await verdict(a.accountId, a.owner);
      return res.body.state === 'active' ? res : null;
    }, 'the verdict to show the active subscription');
    expect(active.body).toMatchObject({
      tier: 'pro',
      limits: { seats: { total: 7, used: 1 } },
      basis: 'subscription',
      nextChange: null,
    });
    expect((await announced(a.accountId)).map((e) => e.payload.state)).toContain('active');
    // The creation's other webhooks (its invoice's, in any order after the subscription's) may change the
    // verdict again: once they are all applied, a verdict read twice is served from the cache.
    await allWebhooksSettled(w);
    await verdict(a.accountId, a.owner);
    expect((await verdict(a.accountId, a.owner)).headers.get('x-entitlements-cache')).toBe('hit');

    const cancel = await http(w.t.url, 'POST', '/v1/subscription/cancel', {
      token: a.owner,
      headers: { 'idempotency-key': randomUUID() },
      body: { when: 'period_end' },
    });
    expect(cancel.status).toBe(200);
    // The very next request: a miss, and the new verdict (the invalidation ran after the commit).
    const canceled = await verdict(a.accountId, a.owner);
    expect(canceled.headers.get('x-entitlements-cache')).toBe('miss');
    expect(canceled.headers.get('etag')).not.toBe(active.headers.get('etag'));
    expect(canceled.body).toMatchObject({
      tier: 'pro',
      state: 'canceled_pending',
      banners: [{ kind: 'cancels_at_period_end' }],
      nextChange: { kind: 'cancellation', planId: 'free' },
    });
    expect((await announced(a.accountId)).map((e) => e.payload)).toContainEqual(canceled.body);

    // Delivered signed, like the payment events, with the new verdict as its data.
    const delivered = await until(
      async () =>
        got.find((r) => {
          const body = JSON.parse(r.body) as {
            type: string;
            accountId: string;
            data: EntitlementVerdictBody;
          };
          return (
            body.type === 'entitlements.updated' &&
            body.accountId === a.accountId &&
            body.data.state === 'canceled_pending'
          );
        }),
      'entitlements.updated at the receiver',
    );
    expect((JSON.parse(delivered.body) as { data: unknown }).data).toEqual(canceled.body);
    const signature = String(delivered.headers['x-billing-signature']);
    const now = Math.floor(Date.now() / 1000);
    expect(verifySignature(endpoint.secret, delivered.body, signature, now)).toBe(true);
    expect(
      verifySignature(endpoint.secret, delivered.body.replace('canceled_pending', 'active'), signature, now),
    ).toBe(false);
  });
});
