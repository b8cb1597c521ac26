import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  accountWithCustomer,
  allEvents,
  createPrices,
  mirrorProjection,
  startMirrorStack,
  stripeProjection,
  waitForAllProcessed,
  type MirrorStack,
} from './stripe-mirrors.support.js';

const SUBSCRIPTIONS = 50;
const PARALLEL = 10;

/** Runs `task` over `items`, `limit` at a time. */
async function pool<T, R>(
  items: T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index] as T, index);
      }
    }),
  );
  return results;
}

interface AuditRow {
  entity_id: string;
  action: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

// R-ARCH-4 / R-WH-4: two worker processes on one queue (plus an api taking the deliveries) apply about
// a thousand events of fifty subscriptions, delivered with duplicates and in random order. The final
// mirror must equal Stripe, nothing may be dead-lettered or fail on a lock conflict (no deadlock), and no change may be
// applied twice: each audit trail is one unbroken chain of before -> after.
describe('mirrors with two workers on one queue: ~1,000 events across 50 subscriptions', () => {
  let stack: MirrorStack;

  beforeAll(async () => {
    stack = await startMirrorStack({
      seed: 7,
      chaos: { webhookReorderWindowMs: 200, webhookDuplicateRate: 0.1 },
      workers: 2,
    });
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('converges to Stripe with no deadlock and no duplicate effect', async () => {
    const { stripe, db } = stack;
    const prices = await createPrices(stripe);
    const accounts = await pool(Array.from({ length: SUBSCRIPTIONS }), PARALLEL, () =>
      accountWithCustomer(stack),
    );
    // A one-time payment made outside the app for every fifth account: mirrored as a payment.
    const oneTime: string[] = [];
    const subscriptions = await pool(accounts, PARALLEL, async ({ customerId }, i) => {
      if (i % 5 === 1) {
        const pi = await stripe.paymentIntents.create({
          amount: 1500 + i,
          currency: 'usd',
          customer: customerId,
          payment_method: 'pm_card_visa',
          confirm: true,
        });
        oneTime.push(pi.id);
      }
      const sub = await stripe.subscriptions.create({
        customer: customerId,
        items: [{ price: prices.base }, { price: prices.seat, quantity: 1 }],
      });
      const seat = sub.items.data.find((item) => item.price.id === prices.seat);
      if (!seat) throw new Error('no seat item');
      for (const quantity of [2, 4, 3])
        await stripe.subscriptionItems.update(seat.id, { quantity: quantity + (i % 3) });
      if (i % 5 === 0) await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
      if (i % 7 === 0) await stripe.subscriptions.cancel(sub.id);
      return sub.id;
    });

    const ids = await waitForAllProcessed(stack, 50_000);
    expect(ids.length).toBeGreaterThanOrEqual(900);

    // Converged: every mirror equals Stripe's subscription re-read through the SDK.
    const now = stack.api.clock.now();
    for (const id of subscriptions) {
      expect({ id, mirror: await mirrorProjection(db, id) }).toEqual({
        id,
        mirror: await stripeProjection(stripe, id, now),
      });
    }

    // No deadlock: no attempt failed on a lock conflict (a failed attempt leaves its error on the row even
    // when a retry then applies the event). Retries for other passing faults of a loaded machine, such as a
    // slow re-read from the emulator, are allowed: the checks above and below prove they did no harm.
    const lockFailures = await db.query<{ id: string; last_error: string }[]>(
      `SELECT id, last_error FROM webhook_events
        WHERE id = ANY($1) AND last_error ~* '(deadlock|lock timeout|could not serialize)'`,
      [ids],
    );
    expect(lockFailures).toEqual([]);

    // No duplicate effect: one creation record per mirrored object, and every audit trail is a chain in
    // which each change starts where the previous one ended (a change applied twice would break it).
    const rows = await db.query<AuditRow[]>(
      `SELECT a.entity_id, a.action, a.before, a.after
         FROM audit_log a JOIN subscriptions s ON s.id::text = a.entity_id
        WHERE s.stripe_subscription_id = ANY($1) ORDER BY a.id`,
      [subscriptions],
    );
    const trails = new Map<string, AuditRow[]>();
    for (const row of rows) trails.set(row.entity_id, [...(trails.get(row.entity_id) ?? []), row]);
    expect(trails.size).toBe(SUBSCRIPTIONS);
    for (const [entity, trail] of trails) {
      expect({ entity, actions: trail.filter((r) => r.action === 'subscription.mirrored').length }).toEqual({
        entity,
        actions: 1,
      });
      expect(trail[0]?.action).toBe('subscription.mirrored');
      for (let k = 1; k < trail.length; k++) {
        const { stripeSubscriptionId: _ignored, ...previous } = trail[k - 1]?.after ?? {};
        expect({ entity, k, before: trail[k]?.before }).toEqual({ entity, k, before: previous });
        expect(trail[k]?.before).not.toEqual(trail[k]?.after);
      }
    }

    // The one-time payments: one row and one creation record per PaymentIntent, and a status history
    // without a repeated change.
    expect(oneTime).toHaveLength(SUBSCRIPTIONS / 5);
    const payments = await db.query<{ n: number; mirrored: number; succeeded: number }[]>(
      `SELECT count(*)::int AS n,
              (SELECT count(*)::int FROM audit_log a JOIN payments p ON p.id::text = a.entity_id
                WHERE a.action = 'payment.mirrored' AND p.stripe_payment_intent_id = ANY($1)) AS mirrored,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded
         FROM payments WHERE stripe_payment_intent_id = ANY($1)`,
      [oneTime],
    );
    expect(payments[0]).toEqual({ n: oneTime.length, mirrored: oneTime.length, succeeded: oneTime.length });
    const repeated = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM (
         SELECT h.payment_id, h.from_status, h.to_status FROM payment_status_history h
           JOIN payments p ON p.id = h.payment_id
          WHERE p.stripe_payment_intent_id = ANY($1)
          GROUP BY 1, 2, 3 HAVING count(*) > 1) d`,
      [oneTime],
    );
    expect(repeated[0]?.n).toBe(0);
    // The PaymentIntents that paid the subscription invoices are the invoices' (the invoice has the
    // receipt): no payment row, and every event about them ignored.
    const invoiceIntents = (await allEvents(stripe))
      .filter((e) => e.type === 'payment_intent.succeeded')
      .map((e) => (e.data.object as { id: string }).id)
      .filter((id) => !oneTime.includes(id));
    expect(invoiceIntents.length).toBeGreaterThanOrEqual(SUBSCRIPTIONS);
    const invoicePayments = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM payments WHERE stripe_payment_intent_id = ANY($1)`,
      [invoiceIntents],
    );
    expect(invoicePayments[0]?.n).toBe(0);
    const intentEvents = await db.query<{ status: string }[]>(
      `SELECT DISTINCT status FROM webhook_events
        WHERE id = ANY($1) AND type LIKE 'payment_intent.%' AND payload->'data'->'object'->>'id' = ANY($2)`,
      [ids, invoiceIntents],
    );
    expect(intentEvents).toEqual([{ status: 'ignored' }]);
    const invoices = await db.query<{ n: number; mirrored: number }[]>(
      `SELECT count(*)::int AS n,
              (SELECT count(*)::int FROM audit_log a JOIN invoices i ON i.id::text = a.entity_id
                WHERE a.action = 'invoice.mirrored' AND i.stripe_subscription_id = ANY($1)) AS mirrored
         FROM invoices WHERE stripe_subscription_id = ANY($1)`,
      [subscriptions],
    );
    expect(invoices[0]?.n).toBeGreaterThanOrEqual(SUBSCRIPTIONS);
    expect(invoices[0]?.mirrored).toBe(invoices[0]?.n);
  }, 90_000);
});
