import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { http } from '../support/test-app.js';
import type { EntitlementVerdictBody } from './entitlements.support.js';
import {
  accountWithCustomer,
  attachMethod,
  startPaymentsWorld,
  type PaymentsWorld,
} from './payments-support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { until } from './webhooks.support.js';

// The verdict follows the subscription through the real paths (the emulator's signed webhooks, the
// cancel command): the cached verdict is invalidated by the first request after the change commits,
// and each change goes out as a signed `entitlements.updated` integration event with the new verdict.
describe('entitlements: invalidated by subscription changes, announced to integrations', () => {
  let w: PaymentsWorld;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;

  beforeAll(async () => {
    w = await startPaymentsWorld();
    prices = await createCatalogue(w.stripe);
    await w.t.db.query(`UPDATE billing_settings SET rollout_percent = 100`);
  });
  afterAll(async () => {
    await w?.close();
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
  });
});
