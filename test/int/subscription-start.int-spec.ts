import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { http } from '../support/test-app.js';
import {
  accountWithCustomer,
  startPaymentsWorld,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';
import { until } from './webhooks.support.js';
import { customerOnClock } from '../support/stripe-world.js';

interface Session {
  sessionId: string;
  url: string;
  expiresAt: string;
  reused: boolean;
}

// R-SUB-1/2/5, R-EDGE-4/5/6: starting a subscription through the real API, the emulator's hosted
// Checkout and its signed webhooks, with the catalogue synced to the emulator at start-up.
describe('starting a subscription: checkout, callback and webhook, trial', () => {
  let w: PaymentsWorld;

  beforeAll(async () => {
    w = await startPaymentsWorld({ CATALOG_SYNC_ON_START: 'true' });
  });
  afterAll(async () => {
    await w?.close();
  });

  const post = <T>(a: TestAccount, path: string, body: unknown, key = randomUUID()) =>
    http<T & { error?: { code: string } }>(w.t.url, 'POST', path, {
      token: a.owner,
      headers: { 'idempotency-key': key },
      body,
    });

  /** Pays a session on the emulator's hosted Checkout page with a test card. */
  async function pay(sessionId: string): Promise<void> {
    const done = await fetch(`${w.kit.emulator.url}/_emulator/checkout/${sessionId}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payment_method=pm_card_visa',
    });
    expect(done.status).toBeLessThan(400);
  }

  const rows = (accountId: string) =>
    w.t.db.query<
      { id: string; state: string; plan_id: string; seats: number; stripe_subscription_id: string }[]
    >(`SELECT id, state, plan_id, seats, stripe_subscription_id FROM subscriptions WHERE account_id = $1`, [
      accountId,
    ]);

  /** Every webhook about the subscription so far has been applied. */
  async function settled(subscriptionId: string): Promise<void> {
    await until(async () => {
      const events = (await w.stripe.events.list({ limit: 100 })).data.filter(
        (e) => (e.data.object as { id?: string; subscription?: string }).id === subscriptionId,
      );
      const [row] = await w.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_events WHERE id = ANY($1) AND status IN ('processed', 'ignored')`,
        [events.map((e) => e.id)],
      );
      return events.length > 0 && row?.n === events.length;
    }, `webhooks about ${subscriptionId}`);
  }

  it('ten checkout requests at once open one session (R-EDGE-4)', async () => {
    const a = await accountWithCustomer(w);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        post<Session>(a, '/v1/subscription/checkout', { plan: 'pro', interval: 'month', seats: 2 }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((r) => r.body.sessionId)).size).toBe(1);
    expect(answers.filter((r) => !r.body.reused)).toHaveLength(1);
    const session = await w.stripe.checkout.sessions.retrieve(answers[0]!.body.sessionId, {
      expand: ['line_items'],
    });
    expect(session).toMatchObject({
      mode: 'subscription',
      client_reference_id: a.accountId,
      customer: a.customerId,
    });
    expect(session.line_items?.data.map((l) => [l.price?.lookup_key, l.quantity])).toEqual([
      ['pro_month_base', 1],
      ['pro_month_seat', 2],
    ]);
    // Another plan is another session.
    const yearly = await post<Session>(a, '/v1/subscription/checkout', { plan: 'pro', interval: 'year' });
    expect(yearly.body.sessionId).not.toBe(answers[0]!.body.sessionId);
  });

  it('callback first, then the webhooks: one subscription, active, on the plan bought (R-EDGE-5)', async () => {
    const a = await accountWithCustomer(w);
    const { body: session } = await post<Session>(a, '/v1/subscription/checkout', {
      plan: 'business',
      interval: 'year',
    });
    await pay(session.sessionId);
    const callback = await http<{ status: string; state: string; planId: string }>(
      w.t.url,
      'GET',
      `/v1/subscription/checkout/complete?session_id=${session.sessionId}`,
    );
    expect(callback).toMatchObject({
      status: 200,
      body: { status: 'complete', state: 'active', planId: 'business' },
    });
    const [row] = await rows(a.accountId);
    await settled(row!.stripe_subscription_id);
    expect(await rows(a.accountId)).toEqual([
      expect.objectContaining({ id: row!.id, state: 'active', plan_id: 'business' }),
    ]);
    const audit = await w.t.db.query<{ action: string }[]>(
      `SELECT action FROM audit_log WHERE entity_id = $1 AND action IN ('subscription.mirrored', 'subscription.state_changed') ORDER BY id`,
      [row!.id],
    );
    expect(audit.map((r) => r.action)).toEqual(['subscription.mirrored', 'subscription.state_changed']);
    const [checkout] = await w.t.db.query<{ status: string }[]>(
      `SELECT status FROM subscription_checkouts WHERE stripe_session_id = $1`,
      [session.sessionId],
    );
    expect(checkout?.status).toBe('complete');
  });

  it('webhooks first, then the callback: the same one subscription, nothing applied twice', async () => {
    const a = await accountWithCustomer(w);
    const { body: session } = await post<Session>(a, '/v1/subscription/checkout', {
      plan: 'pro',
      interval: 'month',
    });
    await pay(session.sessionId);
    const [row] = await until(async () => {
      const found = await rows(a.accountId);
      return found[0]?.state === 'active' ? found : null;
    }, 'the webhooks mirrored the subscription');
    await settled(row!.stripe_subscription_id);
    const auditOf = (id: string) =>
      w.t.db.query<{ id: string }[]>(`SELECT id FROM audit_log WHERE entity_id = $1`, [id]);
    const auditBefore = await auditOf(row!.id);
    const callback = await http(
      w.t.url,
      'GET',
      `/v1/subscription/checkout/complete?session_id=${session.sessionId}`,
    );
    expect(callback).toMatchObject({ status: 200, body: { state: 'active', planId: 'pro' } });
    expect(await rows(a.accountId)).toHaveLength(1);
    expect(await auditOf(row!.id)).toHaveLength(auditBefore.length);
    // A session the app never opened is not read at all.
    const stranger = await http(
      w.t.url,
      'GET',
      '/v1/subscription/checkout/complete?session_id=cs_test_unknown',
    );
    expect(stranger.status).toBe(404);
    // With a live subscription, checkout is refused.
    const again = await post(a, '/v1/subscription/checkout', { plan: 'business', interval: 'month' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'invalid_transition' } } });
  });

  it('a trial without a card, once per account ever; after canceling, checkout again without a trial (R-EDGE-6)', async () => {
    const a = await accountWithCustomer(w);
    // Free has no trial.
    expect((await post(a, '/v1/subscription/trial', { plan: 'free' })).body.error?.code).toBe(
      'trial_not_available',
    );
    const trial = await post<{ state: string; plan: { id: string }; card: unknown; trialEndsAt: string }>(
      a,
      '/v1/subscription/trial',
      { plan: 'business' },
    );
    expect(trial).toMatchObject({
      status: 200,
      body: { state: 'trialing', plan: { id: 'business' }, card: null },
    });
    const days = (Date.parse(trial.body.trialEndsAt) - Date.now()) / 86_400_000;
    // 14 days at least, to the next local midnight of the account (R-EDGE-3).
    expect(days).toBeGreaterThanOrEqual(14 - 1 / 86_400);
    expect(days).toBeLessThan(15.05);
    const [row] = await rows(a.accountId);
    const stripeSub = await w.stripe.subscriptions.retrieve(row!.stripe_subscription_id);
    expect(stripeSub).toMatchObject({
      status: 'trialing',
      trial_settings: { end_behavior: { missing_payment_method: 'cancel' } },
    });

    // While trialing: no second trial and no checkout.
    expect((await post(a, '/v1/subscription/trial', { plan: 'pro' })).body.error?.code).toBe(
      'invalid_transition',
    );

    const canceled = await post(a, '/v1/subscription/cancel', { when: 'now' });
    expect(canceled.status).toBe(200);
    const second = await post(a, '/v1/subscription/trial', { plan: 'pro' });
    expect(second).toMatchObject({ status: 409, body: { error: { code: 'trial_already_used' } } });

    const { body: session } = await post<Session>(a, '/v1/subscription/checkout', {
      plan: 'pro',
      interval: 'month',
    });
    const checkout = await w.stripe.checkout.sessions.retrieve(session.sessionId);
    expect(
      (checkout as { subscription_data?: { trial_period_days?: number } }).subscription_data
        ?.trial_period_days ?? null,
    ).toBeNull();
  });

  it('a trial that ends without a payment method returns the account to Free, nothing deleted (R-EDGE-14)', async () => {
    const start = Math.floor(Date.UTC(2031, 4, 1, 9) / 1000);
    const clock = await w.stripe.testHelpers.testClocks.create({ frozen_time: start });
    const a = await accountWithCustomer(w);
    // The account's customer on a test clock (as Stripe's test mode allows), linked by its metadata.
    await customerOnClock(w, a.accountId, clock.id);
    const trial = await post<{ state: string }>(a, '/v1/subscription/trial', { plan: 'pro' });
    expect(trial).toMatchObject({ status: 200, body: { state: 'trialing' } });
    const [row] = await rows(a.accountId);
    const before = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM account_members WHERE account_id = $1`,
      [a.accountId],
    );

    await w.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + 15 * 86_400 });
    expect((await w.stripe.subscriptions.retrieve(row!.stripe_subscription_id)).status).toBe('canceled');
    const ended = await until(async () => {
      const [now] = await rows(a.accountId);
      return now?.state === 'expired' ? now : null;
    }, 'the trial ended without a card');
    expect(ended.id).toBe(row!.id);
    const view = await http<{ plan: { id: string }; state: string }>(w.t.url, 'GET', '/v1/subscription', {
      token: a.owner,
    });
    expect(view.body).toMatchObject({ plan: { id: 'free' }, state: 'expired' });
    // The account, its members and its subscription history are all still there.
    expect(
      await w.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM account_members WHERE account_id = $1`,
        [a.accountId],
      ),
    ).toEqual(before);
    const audit = await w.t.db.query<{ before: { state: string }; after: { state: string } }[]>(
      `SELECT before, after FROM audit_log WHERE entity_id = $1 AND action = 'subscription.state_changed' ORDER BY id`,
      [row!.id],
    );
    expect(audit.map((r) => `${r.before.state}->${r.after.state}`)).toEqual([
      'free->trialing',
      'trialing->expired',
    ]);
  });
});
