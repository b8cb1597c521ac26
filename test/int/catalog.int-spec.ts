import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { DEFAULT_CATALOGUE, type Catalogue, money } from '@billing/domain';
import { AuditFacade } from '../../apps/billing-api/src/modules/audit/audit.facade.js';
import { CatalogFacade } from '../../apps/billing-api/src/modules/catalog/catalog.facade.js';
import {
  SyncCatalogHandler,
  type CatalogSyncReport,
} from '../../apps/billing-api/src/modules/catalog/commands/sync-catalog/sync-catalog.handler.js';
import { Clock } from '../../apps/billing-api/src/platform/clock/clock.js';
import { type ApiError } from '../../apps/billing-api/src/platform/http/api-error.js';
import { StripeGateway } from '../../apps/billing-api/src/platform/stripe/stripe.gateway.js';
import { startTestEmulator, type TestEmulator } from '../../apps/stripe-emulator/src/core/test-kit.js';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';

const LOOKUP_KEYS = [
  'pro_month_base',
  'pro_month_seat',
  'pro_year_base',
  'pro_year_seat',
  'business_month_base',
  'business_month_seat',
  'business_year_base',
  'business_year_seat',
];

/** The default catalogue with Pro's monthly price changed. */
function withProMonthly(amount: number): Catalogue {
  return {
    plans: DEFAULT_CATALOGUE.plans.map((p) =>
      p.id === 'pro' ? { ...p, prices: { ...p.prices, month: money(amount, 'usd') } } : p,
    ),
  };
}

// Catalogue sync against the emulator through the app's own gateway, with the real PostgreSQL.
describe('catalogue: sync to Stripe by lookup key (R-PLAN-2) and GET /v1/plans (R-PLAN-1)', () => {
  let kit: TestEmulator;
  let t: TestApp;
  let stripe: Stripe;
  const key = `sk_test_${randomUUID().replace(/-/g, '')}`;

  /** A sync (or facade) on another catalogue, built from the app's own parts. */
  const syncFor = (catalogue: Catalogue): SyncCatalogHandler =>
    new SyncCatalogHandler(
      catalogue,
      t.app.get(StripeGateway),
      t.app.get(AuditFacade),
      t.app.get(Clock),
      t.db,
    );
  const facadeFor = (catalogue: Catalogue): CatalogFacade => new CatalogFacade(catalogue, t.db);

  async function stripePrices(): Promise<Stripe.Price[]> {
    return (await stripe.prices.list({ limit: 100 })).data;
  }
  async function rows(): Promise<{ stripe_price_id: string; lookup_key: string; is_current: boolean }[]> {
    return t.db.query(
      `SELECT stripe_price_id, lookup_key, is_current, unit_amount FROM catalog_prices ORDER BY lookup_key, is_current`,
    );
  }

  beforeAll(async () => {
    kit = await startTestEmulator();
    // The start-up sync does the first run.
    t = await startTestApp({
      role: 'api',
      env: { STRIPE_API_BASE: kit.emulator.url, STRIPE_SECRET_KEY: key, CATALOG_SYNC_ON_START: 'true' },
    });
    stripe = kit.client({ key }).stripe;
  });

  afterAll(async () => {
    await t?.close();
    await kit?.close();
  });

  it('syncs at start-up: a product per plan and seat add-on, a price per lookup key, Free left out', async () => {
    const products = (await stripe.products.list({ limit: 100 })).data.map((p) => [p.id, p.name]).sort();
    expect(products).toEqual([
      ['plan_business', 'Business'],
      ['plan_business_seat', 'Business – extra seat'],
      ['plan_pro', 'Pro'],
      ['plan_pro_seat', 'Pro – extra seat'],
    ]);
    const prices = await stripePrices();
    expect(
      prices
        .map((p) => [p.lookup_key, p.unit_amount, p.currency, p.recurring?.interval, p.product, p.active])
        .sort(),
    ).toEqual(
      [
        ['business_month_base', 9900, 'usd', 'month', 'plan_business', true],
        ['business_month_seat', 500, 'usd', 'month', 'plan_business_seat', true],
        ['business_year_base', 99000, 'usd', 'year', 'plan_business', true],
        ['business_year_seat', 5000, 'usd', 'year', 'plan_business_seat', true],
        ['pro_month_base', 2900, 'usd', 'month', 'plan_pro', true],
        ['pro_month_seat', 600, 'usd', 'month', 'plan_pro_seat', true],
        ['pro_year_base', 29000, 'usd', 'year', 'plan_pro', true],
        ['pro_year_seat', 6000, 'usd', 'year', 'plan_pro_seat', true],
      ].sort(),
    );
    const stored = await rows();
    expect(stored.map((r) => r.lookup_key)).toEqual([...LOOKUP_KEYS].sort());
    expect(stored.every((r) => r.is_current)).toBe(true);
    expect(new Set(stored.map((r) => r.stripe_price_id))).toEqual(new Set(prices.map((p) => p.id)));
  });

  it('a second run changes nothing, at Stripe or in the table', async () => {
    const eventsBefore = (await stripe.events.list({ limit: 100 })).data.length;
    const before = await rows();
    const report = await t.app.get(SyncCatalogHandler).execute();
    expect(report).toEqual({ dryRun: false, changes: [], unchanged: 12 });
    expect((await stripe.events.list({ limit: 100 })).data.length).toBe(eventsBefore);
    expect(await rows()).toEqual(before);
  });

  it('the facade maps (plan, interval) to the current price ids and any price id back', async () => {
    const facade = t.app.get(CatalogFacade);
    const resolved = await facade.resolvePrices('pro', 'year');
    if (!resolved.ok) throw new Error(resolved.error.message);
    const [base] = (await stripe.prices.list({ lookup_keys: ['pro_year_base'] })).data;
    const [seat] = (await stripe.prices.list({ lookup_keys: ['pro_year_seat'] })).data;
    expect(resolved.value).toMatchObject({
      planId: 'pro',
      interval: 'year',
      base: { stripePriceId: base!.id, kind: 'base', unitAmount: 29000 },
      seat: { stripePriceId: seat!.id, kind: 'seat', unitAmount: 6000 },
    });
    expect(await facade.priceById(seat!.id)).toMatchObject({ planId: 'pro', interval: 'year', kind: 'seat' });
    expect(await facade.priceById('price_unknown')).toBeNull();
    expect(await facade.unsyncedLookupKeys()).toEqual([]);
    expect(await facadeFor(withProMonthly(3100)).unsyncedLookupKeys()).toEqual(['pro_month_base']);
    expect(await facade.resolvePrices('free', 'month')).toMatchObject({
      ok: false,
      error: { code: 'plan_not_found' },
    });
    expect(await facade.resolvePrices('gold', 'month')).toMatchObject({
      ok: false,
      error: { code: 'plan_not_found' },
    });
    expect(
      await facade.describeItems([
        { priceId: seat!.id, quantity: 3 },
        { priceId: base!.id, quantity: 1 },
      ]),
    ).toEqual({ planId: 'pro', interval: 'year', basePriceId: base!.id, seatPriceId: seat!.id, seats: 3 });
    // A price the table does not know is recognised by the metadata sync sets, then by its lookup key.
    expect(
      await facade.describeItems([
        {
          priceId: 'price_elsewhere',
          quantity: 1,
          metadata: { catalog_plan_id: 'business', catalog_interval: 'month', catalog_kind: 'base' },
        },
        { priceId: 'price_other', quantity: 2, lookupKey: 'business_month_seat' },
      ]),
    ).toEqual({
      planId: 'business',
      interval: 'month',
      basePriceId: 'price_elsewhere',
      seatPriceId: 'price_other',
      seats: 2,
    });
    expect(
      await facade.describeItems([{ priceId: 'price_x', quantity: 1, lookupKey: 'nothing' }]),
    ).toBeNull();
  });

  it('a dry run reports a changed amount and changes nothing', async () => {
    const before = await rows();
    const pricesBefore = await stripePrices();
    const report = await syncFor(withProMonthly(3100)).execute({ dryRun: true });
    expect(report.changes).toEqual([
      {
        object: 'price',
        lookupKey: 'pro_month_base',
        id: '(new)',
        action: 'replaced',
        previousId: before.find((r) => r.lookup_key === 'pro_month_base')!.stripe_price_id,
      },
    ]);
    expect(await rows()).toEqual(before);
    expect(await stripePrices()).toEqual(pricesBefore);
  });

  it('a changed amount makes a new price that takes the lookup key; the old one is archived and still maps', async () => {
    const [old] = (await stripe.prices.list({ lookup_keys: ['pro_month_base'] })).data;
    const changed = withProMonthly(3100);
    const report: CatalogSyncReport = await syncFor(changed).execute();
    expect(report.unchanged).toBe(11);
    expect(report.changes).toEqual([
      {
        object: 'price',
        lookupKey: 'pro_month_base',
        id: expect.stringMatching(/^price_/),
        action: 'replaced',
        previousId: old!.id,
      },
    ]);
    const newId = (report.changes[0] as { id: string }).id;
    const [holder] = (await stripe.prices.list({ lookup_keys: ['pro_month_base'] })).data;
    expect(holder).toMatchObject({ id: newId, unit_amount: 3100, active: true, product: 'plan_pro' });
    expect(await stripe.prices.retrieve(old!.id)).toMatchObject({
      active: false,
      lookup_key: null,
      unit_amount: 2900,
    });

    const proMonth = (await rows()).filter((r) => r.lookup_key === 'pro_month_base');
    expect(proMonth).toEqual([
      expect.objectContaining({ stripe_price_id: old!.id, is_current: false }),
      expect.objectContaining({ stripe_price_id: newId, is_current: true }),
    ]);
    // The app's own facade still holds the file's 2900: it refuses to bill a price that differs.
    await expect(t.app.get(CatalogFacade).resolvePrices('pro', 'month')).rejects.toMatchObject({
      code: 'service_unavailable',
    } satisfies Partial<ApiError>);
    const resolved = await facadeFor(changed).resolvePrices('pro', 'month');
    expect(resolved.ok && resolved.value.base.stripePriceId).toBe(newId);
    // Subscriptions still on the old price are still Pro monthly.
    expect(await t.app.get(CatalogFacade).priceById(old!.id)).toMatchObject({
      planId: 'pro',
      interval: 'month',
      kind: 'base',
      isCurrent: false,
    });

    const audit = await t.db.query<{ action: string; entity_id: string }[]>(
      `SELECT action, entity_id FROM audit_log WHERE action = 'catalog.price_replaced'`,
    );
    expect(audit).toEqual([{ action: 'catalog.price_replaced', entity_id: newId }]);

    // Running the changed catalogue again changes nothing; going back to 2900 makes another new price.
    expect((await syncFor(changed).execute()).changes).toEqual([]);
    const back = await t.app.get(SyncCatalogHandler).execute();
    expect(back.changes).toEqual([
      {
        object: 'price',
        lookupKey: 'pro_month_base',
        id: expect.stringMatching(/^price_/),
        action: 'replaced',
        previousId: newId,
      },
    ]);
    expect([old!.id, newId]).not.toContain((back.changes[0] as { id: string }).id);
    const again = await t.app.get(CatalogFacade).resolvePrices('pro', 'month');
    expect(again.ok && again.value.base.unitAmount).toBe(2900);
  });

  it('renames products and reactivates an archived price', async () => {
    const [seat] = (await stripe.prices.list({ lookup_keys: ['business_year_seat'] })).data;
    await stripe.prices.update(seat!.id, { active: false });
    await stripe.products.update('plan_pro', { name: 'Old name' });
    const report = await t.app.get(SyncCatalogHandler).execute();
    expect(report.changes).toEqual([
      { object: 'product', id: 'plan_pro', action: 'updated' },
      { object: 'price', lookupKey: 'business_year_seat', id: seat!.id, action: 'reactivated' },
    ]);
    expect(await stripe.products.retrieve('plan_pro')).toMatchObject({ name: 'Pro', active: true });
    expect(await stripe.prices.retrieve(seat!.id)).toMatchObject({ active: true });
    expect((await t.app.get(SyncCatalogHandler).execute()).changes).toEqual([]);
  });

  describe('GET /v1/plans', () => {
    it('lists the plans with prices, seats and features for any authenticated role', async () => {
      for (const role of ['owner', 'member', 'finance', 'support', 'admin'] as const) {
        const token = await tokenFor({
          sub: `u-${role}`,
          role,
          accountId: role === 'owner' || role === 'member' ? randomUUID() : null,
        });
        const res = await http<{ currency: string; data: { id: string }[] }>(t.url, 'GET', '/v1/plans', {
          token,
        });
        expect(res.status).toBe(200);
        expect(res.body.data.map((p) => p.id)).toEqual(['free', 'pro', 'business']);
      }
      const token = await tokenFor({ sub: 'u1', role: 'member', accountId: randomUUID() });
      const res = await http(t.url, 'GET', '/v1/plans', { token });
      expect(res.body).toEqual({
        currency: 'usd',
        data: [
          {
            id: 'free',
            name: 'Free',
            tier: 0,
            includedSeats: 1,
            trialAvailable: false,
            features: ['core'],
            prices: [{ interval: 'month', amount: 0, seatAmount: null }],
          },
          {
            id: 'pro',
            name: 'Pro',
            tier: 1,
            includedSeats: 5,
            trialAvailable: true,
            features: ['core', 'api', 'integrations', 'advanced_reports', 'email_support'],
            prices: [
              { interval: 'month', amount: 2900, seatAmount: 600 },
              { interval: 'year', amount: 29000, seatAmount: 6000 },
            ],
          },
          {
            id: 'business',
            name: 'Business',
            tier: 2,
            includedSeats: 25,
            trialAvailable: true,
            features: [
              'core',
              'api',
              'integrations',
              'advanced_reports',
              'email_support',
              'sso',
              'audit_export',
              'priority_support',
              'custom_roles',
            ],
            prices: [
              { interval: 'month', amount: 9900, seatAmount: 500 },
              { interval: 'year', amount: 99000, seatAmount: 5000 },
            ],
          },
        ],
      });
    });

    it('refuses an anonymous caller', async () => {
      const res = await http<{ error: { code: string } }>(t.url, 'GET', '/v1/plans');
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthenticated');
    });
  });
});
