import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_CATALOGUE, money, type Catalogue } from '@billing/domain';
import { AuditFacade } from '../../apps/billing-api/src/modules/audit/audit.facade.js';
import { CatalogFacade } from '../../apps/billing-api/src/modules/catalog/catalog.facade.js';
import { SyncCatalogHandler } from '../../apps/billing-api/src/modules/catalog/commands/sync-catalog/sync-catalog.handler.js';
import { Clock } from '../../apps/billing-api/src/platform/clock/clock.js';
import { StripeGateway } from '../../apps/billing-api/src/platform/stripe/stripe.gateway.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { createAccount, until } from './webhooks.support.js';

interface MirrorRow {
  plan_id: string | null;
  billing_interval: string | null;
  seats: number;
  base_price_id: string | null;
  seat_price_id: string | null;
  state: string;
  stripe_subscription_id: string;
}

// The subscription mirror reads plan and seats through the catalogue (its synced Stripe price ids), for a
// subscription started through the emulator's hosted Checkout and delivered as real signed webhooks.
describe('subscription mirror: plan and seats from the catalogue', () => {
  let world: StripeWorld;

  beforeAll(async () => {
    world = await startStripeWorld({ env: { CATALOG_SYNC_ON_START: 'true' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  const mirrorOf = async (accountId: string): Promise<MirrorRow | undefined> =>
    (
      await world.t.db.query<MirrorRow[]>(
        `SELECT plan_id, billing_interval, seats, base_price_id, seat_price_id, state, stripe_subscription_id
           FROM subscriptions WHERE account_id = $1`,
        [accountId],
      )
    )[0];

  it('stores a Checkout subscription with its plan, interval and seats, and keeps them after a price change', async () => {
    const { t, stripe, kit } = world;
    const accountId = await createAccount(t.url, world.admin);
    const prices = await t.app.get(CatalogFacade).resolvePrices('pro', 'month');
    if (!prices.ok) throw new Error(prices.error.message);
    const base = prices.value.base.stripePriceId;
    const seat = prices.value.seat!.stripePriceId;
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [
        { price: base, quantity: 1 },
        { price: seat, quantity: 3 },
      ],
      success_url: 'https://app.example.test/billing/done',
      client_reference_id: accountId,
    });
    const completed = await fetch(`${kit.emulator.url}/_emulator/checkout/${session.id}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payment_method: 'pm_card_visa', email: 'owner@example.test' }).toString(),
    });
    expect(completed.status).toBe(200);

    const row = await until(async () => {
      const r = await mirrorOf(accountId);
      return r?.state === 'active' ? r : null;
    }, 'the active subscription mirrored');
    expect(row).toMatchObject({
      plan_id: 'pro',
      billing_interval: 'month',
      seats: 3,
      base_price_id: base,
      seat_price_id: seat,
    });

    // Pro's monthly amount changes: the new price takes the lookup key, the old one (still billed on
    // this subscription) has none. A later event must still read the subscription as Pro monthly.
    const changed: Catalogue = {
      plans: DEFAULT_CATALOGUE.plans.map((p) =>
        p.id === 'pro' ? { ...p, prices: { ...p.prices, month: money(3100, 'usd') } } : p,
      ),
    };
    const sync = new SyncCatalogHandler(
      changed,
      t.app.get(StripeGateway),
      t.app.get(AuditFacade),
      t.app.get(Clock),
      t.db,
    );
    const report = await sync.execute();
    expect(report.changes).toEqual([
      expect.objectContaining({ lookupKey: 'pro_month_base', action: 'replaced' }),
    ]);
    expect((await stripe.prices.retrieve(base)).lookup_key).toBeNull();

    const sub = await stripe.subscriptions.retrieve(row.stripe_subscription_id);
    const seatItem = sub.items.data.find((i) => i.price.id === seat)!;
    await stripe.subscriptions.update(sub.id, {
      items: [{ id: seatItem.id, quantity: 4 }],
      proration_behavior: 'none',
    });
    const after = await until(async () => {
      const r = await mirrorOf(accountId);
      return r?.seats === 4 ? r : null;
    }, 'the seat change mirrored');
    expect(after).toMatchObject({
      plan_id: 'pro',
      billing_interval: 'month',
      base_price_id: base,
      state: 'active',
    });
  });
});
