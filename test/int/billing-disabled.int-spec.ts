import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RecordingProxy } from '../support/recording-proxy.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  startPaymentsWorld,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';
import { createCatalogue } from './stripe-mirrors.support.js';

interface ErrorBody {
  error?: { code: string; message: string };
}

// R-PLAN-5: an account whose billing is off has full access and no billing calls. Every route that would
// ask Stripe to bill the account answers 409 `billing_disabled`, and the Stripe request log (a recording
// proxy between the app and the emulator) shows that nothing was asked.
describe('billing disabled: no billing calls for the account', () => {
  let w: PaymentsWorld;
  let proxy: RecordingProxy;
  let a: TestAccount;
  let method: string;

  beforeAll(async () => {
    proxy = new RecordingProxy();
    const base = await proxy.start();
    w = await startPaymentsWorld({ STRIPE_API_BASE: base });
    proxy.forwardTo(w.kit.emulator.url);
    await createCatalogue(w.stripe);
    await w.t.db.query(`UPDATE billing_settings SET rollout_percent = 100`);
    a = await accountWithCustomer(w);
    method = await attachMethod(w, a, 'pm_card_visa');
  }, 60_000);
  afterAll(async () => {
    await w?.close();
    await proxy?.stop();
  });

  const setFlag = (billingEnabled: boolean) =>
    http(w.t.url, 'PATCH', `/v1/admin/accounts/${a.accountId}/billing`, {
      token: w.admin,
      body: { billingEnabled },
      headers: { 'idempotency-key': randomUUID() },
    });

  /** Every route that asks Stripe to bill the caller's account. */
  const calls: [string, string, unknown][] = [
    ['POST', '/v1/subscription/checkout', { plan: 'pro', interval: 'month' }],
    ['POST', '/v1/subscription/trial', { plan: 'pro' }],
    ['POST', '/v1/subscription/resume', undefined],
    ['POST', '/v1/billing-portal', undefined],
    ['POST', '/v1/payments', { amount: 1500, currency: 'usd', paymentMethodId: 'PM' }],
    ['POST', '/v1/payment-methods/setup-intents', undefined],
    ['POST', '/v1/payment-methods/PM/default', undefined],
  ];

  const send = (verb: string, path: string, body: unknown) =>
    http<ErrorBody>(w.t.url, verb, path.replace('PM', method), {
      token: a.owner,
      headers: { 'idempotency-key': randomUUID() },
      ...(body === undefined
        ? {}
        : { body: JSON.parse(JSON.stringify(body).replace('PM', method)) as unknown }),
    });

  it('refuses each billing call with 409 billing_disabled and asks Stripe nothing', async () => {
    expect((await setFlag(false)).status).toBe(200);
    const before = proxy.requests.length;
    const paymentsBefore = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM payments WHERE account_id = $1`,
      [a.accountId],
    );
    for (const [verb, path, body] of calls) {
      const res = await send(verb, path, body);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({
        path,
        status: 409,
        code: 'billing_disabled',
      });
      expect(res.body.error?.message).toMatch(/billing is turned off/i);
    }
    expect(proxy.requests.slice(before)).toEqual([]);
    // Nothing recorded either: no payment, no checkout session.
    expect(
      await w.t.db.query(`SELECT count(*)::int AS n FROM payments WHERE account_id = $1`, [a.accountId]),
    ).toEqual(paymentsBefore);
    expect(
      await w.t.db.query(`SELECT count(*)::int AS n FROM subscription_checkouts WHERE account_id = $1`, [
        a.accountId,
      ]),
    ).toEqual([{ n: 0 }]);
    // Reads still work, and the verdict grants everything.
    const verdict = await http<{ basis: string; accessMode: string }>(
      w.t.url,
      'GET',
      `/v1/accounts/${a.accountId}/entitlements`,
      { token: a.owner },
    );
    expect(verdict.body).toMatchObject({ basis: 'billing_disabled', accessMode: 'full' });
    expect((await http(w.t.url, 'GET', '/v1/payment-methods', { token: a.owner })).status).toBe(200);
  });

  it('billing on again: the same calls reach Stripe', async () => {
    expect((await setFlag(true)).status).toBe(200);
    const before = proxy.requests.length;
    const intent = await send('POST', '/v1/payment-methods/setup-intents', undefined);
    expect(intent.status).toBe(201);
    const portal = await send('POST', '/v1/billing-portal', undefined);
    expect(portal.status).toBe(200);
    const asked = proxy.requests.slice(before).map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(asked).toEqual(
      expect.arrayContaining(['POST /v1/setup_intents', 'POST /v1/billing_portal/sessions']),
    );
  });

  it('an unauthenticated billing call is still a 401, not a billing answer', async () => {
    const res = await http<ErrorBody>(w.t.url, 'POST', '/v1/subscription/checkout', {
      body: { plan: 'pro', interval: 'month' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(res.status).toBe(401);
  });
});
