import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { startTestEmulator, type TestEmulator } from '../../apps/stripe-emulator/src/core/test-kit.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { accountMirror, createAccount, SECRET, until } from './webhooks.support.js';

// Real signed deliveries: the emulator creates and changes customers and delivers every event (some
// twice, in random order) to the app's /webhooks/stripe; the mirror must end equal to Stripe's state.
describe('customer mirror fed by the emulator (real signed deliveries, duplicates, reordering)', () => {
  let kit: TestEmulator;
  let t: TestApp;
  let proxy: TcpProxy;
  const key = `sk_test_${randomUUID().replace(/-/g, '')}`;

  beforeAll(async () => {
    // The emulator needs the webhook URL before the app (which needs the emulator's URL) exists: it
    // delivers to a proxy's port, and the proxy forwards to the app once it listens.
    proxy = new TcpProxy('127.0.0.1', 0);
    const port = await proxy.start(0);
    kit = await startTestEmulator({
      webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
      webhookSecret: SECRET,
      chaos: { webhookDuplicateRate: 0.4, webhookReorderWindowMs: 400 },
    });
    t = await startTestApp({
      role: 'all',
      env: { STRIPE_API_BASE: kit.emulator.url, STRIPE_SECRET_KEY: key, STRIPE_WEBHOOK_SECRETS: SECRET },
    });
    proxy.forwardTo('127.0.0.1', Number(new URL(t.url).port));
  });
  afterAll(async () => {
    await proxy?.stop();
    await t?.close();
    await kit?.close();
  });

  it('converges: balance, email and deletion of every customer equal Stripe after all deliveries', async () => {
    const { stripe } = kit.client({ key });
    const admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
    const accounts: { accountId: string; customerId: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const accountId = await createAccount(t.url, admin);
      const c = await stripe.customers.create({
        email: `c${i}@example.test`,
        metadata: { account_id: accountId },
      });
      accounts.push({ accountId, customerId: c.id });
    }
    // Several changes per customer within the same second or two: order cannot be told by `created`.
    for (let round = 1; round <= 3; round++) {
      for (const [i, a] of accounts.entries()) {
        await stripe.customers.update(a.customerId, {
          balance: -(round * 1000 + i),
          email: `c${i}-r${round}@example.test`,
        });
      }
    }
    const deleted = accounts[3];
    if (!deleted) throw new Error('no account');
    await stripe.customers.del(deleted.customerId);

    const events = await stripe.events.list({
      limit: 100,
      types: ['customer.created', 'customer.updated', 'customer.deleted'],
    });
    const ours = events.data.filter((e) =>
      accounts.some((a) => (e.data.object as { id: string }).id === a.customerId),
    );
    expect(ours.length).toBe(4 + 12 + 1);

    // Every event stored once and finished.
    await until(
      async () => {
        const rows = await t.db.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM webhook_events WHERE id = ANY($1) AND status IN ('processed', 'ignored')`,
          [ours.map((e) => e.id)],
        );
        return rows[0]?.n === ours.length;
      },
      'every customer event processed',
      30_000,
    );

    expect(await accountMirror(t.db, deleted.accountId)).toMatchObject({
      stripe_customer_id: deleted.customerId,
      stripe_customer_deleted: true,
    });
    for (const [i, a] of accounts.slice(0, 3).entries()) {
      const current = await stripe.customers.retrieve(a.customerId);
      if (current.deleted) throw new Error('unexpected deletion');
      expect(current.balance).toBe(-(3000 + i));
      expect(await accountMirror(t.db, a.accountId)).toEqual({
        stripe_customer_id: a.customerId,
        stripe_balance: String(current.balance),
        stripe_default_payment_method_id: null,
        stripe_email: current.email,
        stripe_delinquent: false,
        stripe_customer_deleted: false,
      });
    }
  }, 60_000);
});
