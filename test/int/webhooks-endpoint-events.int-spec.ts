import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ProcessStripeEvent } from '../../apps/billing-api/src/modules/webhooks/processing/process-stripe-event.js';
import { StripeEventDispatcher } from '../../apps/billing-api/src/modules/webhooks/processing/stripe-event-dispatcher.js';
import {
  OPTIONAL_STRIPE_EVENTS,
  STRIPE_ENDPOINT_EVENTS,
} from '../../apps/billing-api/src/modules/webhooks/contracts/stripe-endpoint-events.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { tokenFor } from '../support/test-app.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  until,
  type TestAccount,
} from './payments-support.js';
import { SECRET } from './webhooks.support.js';

/** R-WH-6's "handled at least" list. */
const REQUIRED_BY_SPEC = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.trial_will_end',
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'invoice.upcoming',
  'invoice.payment_action_required',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.requires_action',
  'charge.refunded',
  'refund.created',
  'refund.updated',
  'refund.failed',
  'payment_method.attached',
  'payment_method.detached',
  'payment_method.automatically_updated',
  'customer.updated',
];

interface PaymentRow {
  id: string;
  status: string;
  card_brand: string | null;
  card_last4: string | null;
  amount_refunded: string;
  version: number;
  metadata: Record<string, string>;
}

// The README tells operators to enable STRIPE_ENDPOINT_EVENTS on the Stripe endpoint. Here the
// emulator's endpoint is enabled for exactly those, and payments still end complete.
describe('The Stripe endpoint enabled for STRIPE_ENDPOINT_EVENTS only', () => {
  let w: StripeWorld;
  let a: TestAccount;
  let visa: string;

  const paymentByIntent = async (intentId: string): Promise<PaymentRow | undefined> =>
    (
      await w.t.db.query<PaymentRow[]>(
        `SELECT id, status, card_brand, card_last4, amount_refunded, version, metadata FROM payments
          WHERE stripe_payment_intent_id = $1`,
        [intentId],
      )
    )[0];
  const receiptOf = async (paymentId: string) =>
    (
      await w.t.db.query<{ number: number; method_brand: string | null; method_last4: string | null }[]>(
        `SELECT number, method_brand, method_last4 FROM receipts WHERE payment_id = $1`,
        [paymentId],
      )
    )[0];
  /** The types of the events about this object that reached the inbox, once all are processed. */
  const inboxTypesAbout = async (objectId: string): Promise<string[]> => {
    const sent = (await w.stripe.events.list({ limit: 100 })).data.filter(
      (e) => (e.data.object as { id?: string }).id === objectId,
    );
    return until(async () => {
      const rows = await w.t.db.query<{ type: string; status: string }[]>(
        `SELECT type, status FROM webhook_events WHERE payload->'data'->'object'->>'id' = $1 ORDER BY type`,
        [objectId],
      );
      const enabled = sent.filter((e) => STRIPE_ENDPOINT_EVENTS.includes(e.type));
      const done = rows.filter((r) => r.status === 'processed' || r.status === 'ignored');
      return done.length === enabled.length && rows.length === done.length ? rows.map((r) => r.type) : null;
    }, `inbox events about ${objectId}`);
  };

  beforeAll(async () => {
    w = await startStripeWorld({ secret: SECRET, events: STRIPE_ENDPOINT_EVENTS });
    a = await accountWithCustomer(w);
    visa = await attachMethod(w, a, 'pm_card_visa');
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it('names every handled type once: enabled, or optional with a reason; R-WH-6 types are enabled', () => {
    const handled = w.t.app.get(StripeEventDispatcher).handledTypes();
    const optional = Object.keys(OPTIONAL_STRIPE_EVENTS);
    expect([...STRIPE_ENDPOINT_EVENTS, ...optional].sort()).toEqual(handled);
    expect(optional.filter((type) => STRIPE_ENDPOINT_EVENTS.includes(type))).toEqual([]);
    expect(REQUIRED_BY_SPEC.filter((type) => !STRIPE_ENDPOINT_EVENTS.includes(type))).toEqual([]);
    for (const reason of Object.values(OPTIONAL_STRIPE_EVENTS)) expect(reason.length).toBeGreaterThan(20);
  });

  it('an API payment brings one webhook and ends with its card, receipt and refund', async () => {
    const res = await http<{ id: string; status: string; stripePaymentIntentId: string }>(
      w.t.url,
      'POST',
      '/v1/payments',
      {
        token: a.owner,
        body: { amount: 1500, currency: 'usd', paymentMethodId: visa, metadata: { cart: 'c1' } },
        headers: { 'idempotency-key': randomUUID() },
      },
    );
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('succeeded');
    const intent = res.body.stripePaymentIntentId;
    // Stripe emitted payment_intent.created and charge.succeeded too; only the enabled event came.
    const emitted = (await w.stripe.events.list({ limit: 100 })).data
      .filter((e) => (e.data.object as { payment_intent?: string; id?: string }).id === intent)
      .map((e) => e.type);
    expect(emitted).toEqual(expect.arrayContaining(['payment_intent.created', 'payment_intent.succeeded']));
    expect(await inboxTypesAbout(intent)).toEqual(['payment_intent.succeeded']);
    const row = await paymentByIntent(intent);
    expect(row).toMatchObject({ status: 'succeeded', card_brand: 'visa', card_last4: '4242' });
    // The event confirmed what the API had applied: it wrote nothing (version 1 at creation, 2 after
    // Stripe's answer), and the keys the API put on the PaymentIntent did not become the payment's.
    expect(row).toMatchObject({ version: 2, metadata: { cart: 'c1' } });
    expect(Object.keys(row?.metadata ?? {})).toEqual(['cart']);
    expect(await receiptOf(res.body.id)).toMatchObject({ method_brand: 'visa', method_last4: '4242' });

    const finance = await tokenFor({ sub: `fin-${randomUUID()}`, role: 'finance' });
    const refund = await http(w.t.url, 'POST', `/v1/payments/${res.body.id}/refunds`, {
      token: finance,
      body: { reason: 'requested_by_customer' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(refund.status).toBe(201);
    await until(async () => (await paymentByIntent(intent))?.status === 'refunded', 'refunded by webhooks');
    expect((await paymentByIntent(intent))?.amount_refunded).toBe('1500');
  }, 30_000);

  it("an event confirming the API's answer is marked without the mirror's row lock; one that changes the payment takes it", async () => {
    const res = await http<{ id: string; stripePaymentIntentId: string }>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 1700, currency: 'usd', paymentMethodId: visa },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(res.status).toBe(201);
    const intent = res.body.stripePaymentIntentId;
    expect(await inboxTypesAbout(intent)).toEqual(['payment_intent.succeeded']);
    const [stored] = await w.t.db.query<{ id: string }[]>(
      `SELECT id FROM webhook_events WHERE payload->'data'->'object'->>'id' = $1`,
      [intent],
    );
    const eventId = stored?.id ?? '';
    const processor = w.t.app.get(ProcessStripeEvent, { strict: false });
    /** Runs the event again while another transaction holds the payment row; 'blocked' if it waits for it. */
    const runWhileLocked = async () => {
      // Touched now, so that the inbox sweeper does not hand the row to a worker meanwhile.
      await w.t.db.query(`UPDATE webhook_events SET status = 'pending', updated_at = now() WHERE id = $1`, [
        eventId,
      ]);
      const holder = w.t.db.createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      try {
        const [me] = (await holder.query(`SELECT pg_backend_pid() AS pid`)) as { pid: number }[];
        await holder.query(`SELECT id FROM payments WHERE id = $1 FOR UPDATE`, [res.body.id]);
        let finished = false;
        const run = processor.execute(eventId, { lastAttempt: false }).finally(() => {
          finished = true;
        });
        // Whichever comes first: the run ends, or a session waits for the holder's lock.
        const first = await until(async () => {
          if (finished) return { result: await run };
          const [blocked] = await w.t.db.query<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`,
            [me?.pid],
          );
          return (blocked?.n ?? 0) > 0 ? ('blocked' as const) : null;
        }, 'the run to end or to wait for the lock');
        await holder.commitTransaction();
        return { first: first === 'blocked' ? first : first.result, result: await run };
      } finally {
        await holder.release();
      }
    };
    const version = async () => (await paymentByIntent(intent))?.version;
    expect(await version()).toBe(2);

    // Again as delivered: it confirms the payment as the API wrote it, so it needs no lock.
    expect(await runWhileLocked()).toEqual({
      first: { status: 'processed', outcome: 'applied' },
      result: { status: 'processed', outcome: 'applied' },
    });
    expect(await version()).toBe(2);

    // The same event as if sent a minute later: it moves the payment's event clock, so the mirror writes
    // the row, which it does only under the row's lock.
    await w.t.db.query(
      `UPDATE webhook_events SET event_created = event_created + interval '60 seconds' WHERE id = $1`,
      [eventId],
    );
    expect(await runWhileLocked()).toEqual({
      first: 'blocked',
      result: { status: 'processed', outcome: 'applied' },
    });
    expect(await version()).toBe(3);
  }, 30_000);

  it('a PaymentIntent made outside the app is mirrored with its card summary and receipt', async () => {
    const pi = await w.stripe.paymentIntents.create({
      amount: 2500,
      currency: 'usd',
      customer: a.customerId,
      payment_method: visa,
      confirm: true,
      metadata: { account_id: a.accountId },
    });
    expect(pi.status).toBe('succeeded');
    expect(await inboxTypesAbout(pi.id)).toEqual(['payment_intent.succeeded']);
    const row = await until(async () => {
      const found = await paymentByIntent(pi.id);
      return found?.status === 'succeeded' ? found : undefined;
    }, 'mirrored payment');
    // Its PaymentIntent names the method by id only: the card comes from a re-read of the charge.
    expect(row).toMatchObject({ card_brand: 'visa', card_last4: '4242' });
    expect(await receiptOf(row.id)).toMatchObject({ method_brand: 'visa', method_last4: '4242' });
  }, 30_000);
});
