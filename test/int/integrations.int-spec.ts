import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { verifySignature } from '../../apps/billing-api/src/modules/integrations/signature.js';
import { http } from '../support/test-app.js';
import {
  accountWithCustomer,
  payByCard,
  startPaymentsStack,
  type PaymentsStack,
} from './notifications.support.js';
import { accountWithCustomer as apiAccount, attachMethod, webhooksSettled } from './payments-support.js';
import { until } from './webhooks.support.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP receiver; answers the first `failFirst` requests of each event id with 500, then 204. */
async function receiver(failFirst = 0): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const id = String(req.headers['x-billing-event-id']);
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      if (count <= failFirst) {
        res.writeHead(500).end('down');
      } else {
        res.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, got, server };
}

const bodyOf = (r: Received): { id: string; type: string; data: Record<string, unknown> } =>
  JSON.parse(r.body) as { id: string; type: string; data: Record<string, unknown> };

/** The body of the delivery of `type` about the payment (or PaymentIntent), once it has arrived. */
function arrival(got: Received[], type: string, about: { paymentId?: string; intentId?: string }) {
  return until(
    async () =>
      got.find((r) => {
        const b = bodyOf(r);
        return (
          b.type === type &&
          (about.paymentId === undefined || b.data.paymentId === about.paymentId) &&
          (about.intentId === undefined || b.data.stripePaymentIntentId === about.intentId)
        );
      }),
    `${type} at the receiver`,
  );
}

describe('outbound integration events: signed POSTs to configured endpoints, retried, logged', () => {
  let s: PaymentsStack;
  let good: Awaited<ReturnType<typeof receiver>>;
  let flaky: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    // The receivers listen on 127.0.0.1: the operator setting that allows private targets is on.
    s = await startPaymentsStack({ INTEGRATIONS_ALLOW_PRIVATE_TARGETS: 'true' });
    good = await receiver();
    flaky = await receiver(2);
  });
  afterAll(async () => {
    await s?.close();
    good?.server.close();
    flaky?.server.close();
  });

  const createEndpoint = async (url: string) => {
    const r = await http<{ id: string; secret: string }>(s.t.url, 'POST', '/v1/admin/integration-endpoints', {
      token: s.admin,
      body: { url, description: 'orders' },
    });
    expect(r.status).toBe(201);
    return r.body;
  };

  /** The types of the integration events written about a payment, sorted (the test clock stands still). */
  const eventsOf = async (paymentId: string): Promise<string[]> =>
    (
      await s.t.db.query<{ type: string }[]>(
        `SELECT type FROM integration_events WHERE subject_id = $1 ORDER BY type`,
        [paymentId],
      )
    ).map((r) => r.type);

  const paymentOf = (intentId: string) =>
    until(async () => {
      const rows = await s.t.db.query<{ id: string }[]>(
        `SELECT id FROM payments WHERE stripe_payment_intent_id = $1`,
        [intentId],
      );
      return rows[0]?.id;
    }, `the payment of ${intentId}`);

  const statusIs = (paymentId: string, status: string) =>
    until(async () => {
      const rows = await s.t.db.query<{ status: string }[]>(`SELECT status FROM payments WHERE id = $1`, [
        paymentId,
      ]);
      return rows[0]?.status === status;
    }, `payment ${paymentId} ${status}`);

  const threeDSecure = (intentId: string, result: 'succeed' | 'fail') =>
    fetch(`${s.kit.emulator.url}/_emulator/3ds/${intentId}?result=${result}`, {
      method: 'POST',
      redirect: 'manual',
    });

  it('payment.succeeded, refund.succeeded, payment.partially_refunded and payment.refunded reach every endpoint, signed; a failing one is retried', async () => {
    const goodEndpoint = await createEndpoint(good.url);
    const flakyEndpoint = await createEndpoint(flaky.url);
    const listed = await http<{ data: { id: string; secret?: string }[] }>(
      s.t.url,
      'GET',
      '/v1/admin/integration-endpoints',
      { token: s.admin },
    );
    expect(listed.body.data.map((e) => e.id)).toEqual(
      expect.arrayContaining([goodEndpoint.id, flakyEndpoint.id]),
    );
    expect(listed.body.data.every((e) => e.secret === undefined)).toBe(true);

    const a = await accountWithCustomer(s, 'en-US', 'UTC');
    const intent = await payByCard(s, a, 5000, 'usd');
    const paymentId = await until(async () => {
      const rows = await s.t.db.query<{ id: string }[]>(
        `SELECT id FROM payments WHERE stripe_payment_intent_id = $1`,
        [intent.id],
      );
      return rows[0]?.id;
    }, 'the payment');

    const succeeded = await until(
      async () =>
        good.got.find(
          (r) => bodyOf(r).type === 'payment.succeeded' && bodyOf(r).data.paymentId === paymentId,
        ),
      'payment.succeeded at the receiver',
    );
    const now = Math.floor(Date.now() / 1000);
    const signature = String(succeeded.headers['x-billing-signature']);
    expect(verifySignature(goodEndpoint.secret, succeeded.body, signature, now)).toBe(true);
    expect(verifySignature(goodEndpoint.secret, succeeded.body.replace('5000', '5001'), signature, now)).toBe(
      false,
    );
    expect(verifySignature('whsec_wrong_secret_0000', succeeded.body, signature, now)).toBe(false);
    expect(succeeded.headers['x-billing-event-id']).toBe(bodyOf(succeeded).id);
    expect(bodyOf(succeeded).data).toMatchObject({ status: 'succeeded', amount: 5000, currency: 'usd' });

    // The refund: its own event and the payment's.
    await s.stripe.refunds.create({ payment_intent: intent.id, amount: 2000 });
    const partially = await arrival(good.got, 'payment.partially_refunded', { paymentId });
    expect(bodyOf(partially).data).toMatchObject({
      status: 'partially_refunded',
      previousStatus: 'succeeded',
      amountRefunded: 2000,
    });
    expect(
      verifySignature(
        goodEndpoint.secret,
        partially.body,
        String(partially.headers['x-billing-signature']),
        now,
      ),
    ).toBe(true);
    const refundEvent = await until(
      async () =>
        good.got.find((r) => bodyOf(r).type === 'refund.succeeded' && bodyOf(r).data.paymentId === paymentId),
      'refund.succeeded',
    );
    expect(bodyOf(refundEvent).data).toMatchObject({ amount: 2000, currency: 'usd', status: 'succeeded' });
    expect(
      verifySignature(
        goodEndpoint.secret,
        refundEvent.body,
        String(refundEvent.headers['x-billing-signature']),
        now,
      ),
    ).toBe(true);

    // The rest: the payment is refunded. One event per status, whatever the number of refunds.
    await s.stripe.refunds.create({ payment_intent: intent.id });
    const refundedAll = await arrival(good.got, 'payment.refunded', { paymentId });
    expect(bodyOf(refundedAll).data).toMatchObject({
      status: 'refunded',
      previousStatus: 'partially_refunded',
      amountRefunded: 5000,
    });
    expect(await eventsOf(paymentId)).toEqual([
      'payment.partially_refunded',
      'payment.refunded',
      'payment.succeeded',
    ]);

    // The failing receiver: two 500s, then accepted; the same event id each time, every attempt logged.
    const eventId = bodyOf(succeeded).id;
    await until(
      async () => flaky.got.filter((r) => bodyOf(r).id === eventId).length >= 3,
      'three attempts at the failing receiver',
      30_000,
    );
    const log = await until(async () => {
      const r = await http<{
        data: { eventId: string; status: string; attempts: number; lastStatusCode: number }[];
      }>(s.t.url, 'GET', `/v1/admin/integration-endpoints/${flakyEndpoint.id}/deliveries`, {
        token: s.admin,
      });
      const d = r.body.data.find((x) => x.eventId === eventId);
      return d?.status === 'delivered' ? d : null;
    }, 'the delivery marked delivered');
    expect(log).toMatchObject({ attempts: 3, lastStatusCode: 204 });
    const attempts = await s.t.db.query<{ status_code: number }[]>(
      `SELECT a.status_code FROM integration_delivery_attempts a JOIN integration_deliveries d ON d.id = a.delivery_id
        WHERE d.event_id = $1 AND d.endpoint_id = $2 ORDER BY a.id`,
      [eventId, flakyEndpoint.id],
    );
    expect(attempts.map((x) => x.status_code)).toEqual([500, 500, 204]);
    expect(good.got.filter((r) => bodyOf(r).id === eventId)).toHaveLength(1);

    // A deleted endpoint receives nothing more; a member of the staff who is not admin cannot manage endpoints.
    expect(
      (
        await http(s.t.url, 'DELETE', `/v1/admin/integration-endpoints/${flakyEndpoint.id}`, {
          token: s.admin,
        })
      ).status,
    ).toBe(204);
    expect(
      (
        await http(s.t.url, 'DELETE', `/v1/admin/integration-endpoints/${flakyEndpoint.id}`, {
          token: s.admin,
        })
      ).status,
    ).toBe(404);
    const rows = await s.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM integration_events WHERE subject_id = $1 AND type = 'payment.succeeded'`,
      [paymentId],
    );
    expect(rows[0]?.n).toBe(1);
  }, 60_000);
  it('a declined card: payment.failed with the decline, signed with the endpoint secret', async () => {
    const hooks = await receiver();
    try {
      const endpoint = await createEndpoint(hooks.url);
      const a = await accountWithCustomer(s, 'en-US', 'UTC');
      const declined = await payByCard(
        s,
        a,
        3100,
        'usd',
        'pm_card_visa_chargeDeclinedInsufficientFunds',
      ).then(
        () => null,
        (e: unknown) => e as Stripe.errors.StripeCardError,
      );
      expect(declined).toMatchObject({ type: 'StripeCardError', code: 'card_declined' });
      const intentId = declined?.payment_intent?.id ?? 'none';
      const failed = await arrival(hooks.got, 'payment.failed', { intentId });
      const now = Math.floor(Date.now() / 1000);
      const signature = String(failed.headers['x-billing-signature']);
      expect(verifySignature(endpoint.secret, failed.body, signature, now)).toBe(true);
      expect(verifySignature('whsec_wrong_secret_0000', failed.body, signature, now)).toBe(false);
      expect(failed.headers['x-billing-event-type']).toBe('payment.failed');
      expect(bodyOf(failed).data).toMatchObject({
        status: 'failed',
        amount: 3100,
        amountReceived: 0,
        currency: 'usd',
        failureCode: 'card_declined',
        declineCode: 'insufficient_funds',
      });
      expect(await eventsOf(await paymentOf(intentId))).toEqual(['payment.failed']);
    } finally {
      hooks.server.close();
    }
  }, 60_000);

  it('3-D Secure through the API: payment.requires_action, then payment.succeeded; the webhooks again write nothing', async () => {
    const hooks = await receiver();
    try {
      const endpoint = await createEndpoint(hooks.url);
      const a = await apiAccount(s);
      const pm = await attachMethod(s, a, 'pm_card_authenticationRequired');
      const created = await http<{ id: string; status: string; stripePaymentIntentId: string }>(
        s.t.url,
        'POST',
        '/v1/payments',
        {
          token: a.owner,
          body: { amount: 4200, currency: 'eur', paymentMethodId: pm, orderReference: 'ORD-3DS-EVENTS' },
          headers: { 'idempotency-key': randomUUID() },
        },
      );
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('requires_action');
      const paymentId = created.body.id;
      const intentId = created.body.stripePaymentIntentId;

      const action = await arrival(hooks.got, 'payment.requires_action', { paymentId });
      expect(bodyOf(action).data).toMatchObject({
        status: 'requires_action',
        previousStatus: 'pending',
        amount: 4200,
        currency: 'eur',
        orderReference: 'ORD-3DS-EVENTS',
        stripePaymentIntentId: intentId,
      });
      const now = Math.floor(Date.now() / 1000);
      expect(
        verifySignature(endpoint.secret, action.body, String(action.headers['x-billing-signature']), now),
      ).toBe(true);
      // The API's answer and payment_intent.requires_action reach the same status: one event.
      await webhooksSettled(s, intentId);

      expect((await threeDSecure(intentId, 'succeed')).status).toBeLessThan(400);
      const succeeded = await arrival(hooks.got, 'payment.succeeded', { paymentId });
      expect(bodyOf(succeeded).data).toMatchObject({
        status: 'succeeded',
        previousStatus: 'requires_action',
      });
      expect(hooks.got.indexOf(action)).toBeLessThan(hooks.got.indexOf(succeeded));
      await webhooksSettled(s, intentId);
      expect(await eventsOf(paymentId)).toEqual(['payment.requires_action', 'payment.succeeded']);

      // Stripe sends every event about the PaymentIntent again: acknowledged, nothing new written or sent.
      const events = (await s.stripe.events.list({ limit: 100 })).data.filter(
        (e) => (e.data.object as { id?: string }).id === intentId,
      );
      expect(events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['payment_intent.requires_action', 'payment_intent.succeeded']),
      );
      for (const e of events) {
        const r = await fetch(`${s.kit.emulator.url}/_emulator/events/${e.id}/redeliver`, { method: 'POST' });
        expect(r.status).toBe(200);
      }
      // The intake answers a redelivery only after its inbox insert found the event there (and enqueues
      // nothing), so once the emulator has every answer nothing more can follow.
      await s.kit.emulator.delivery.idle();
      const deliveries = await Promise.all(
        events.map(async (e) => {
          const r = await fetch(`${s.kit.emulator.url}/_emulator/deliveries?event=${e.id}`);
          return ((await r.json()) as { data: { status: string }[] }).data;
        }),
      );
      for (const d of deliveries) expect(d.map((x) => x.status)).toEqual(['succeeded', 'succeeded']);
      expect(await eventsOf(paymentId)).toEqual(['payment.requires_action', 'payment.succeeded']);
      const sent = hooks.got.filter((r) => bodyOf(r).data.paymentId === paymentId).map((r) => bodyOf(r).type);
      expect(sent).toEqual(['payment.requires_action', 'payment.succeeded']);
    } finally {
      hooks.server.close();
    }
  }, 60_000);

  it('a PaymentIntent canceled at Stripe: payment.canceled after payment.requires_action', async () => {
    const hooks = await receiver();
    try {
      const endpoint = await createEndpoint(hooks.url);
      const a = await accountWithCustomer(s, 'en-US', 'UTC');
      const intent = await payByCard(s, a, 1500, 'usd', 'pm_card_authenticationRequired');
      expect(intent.status).toBe('requires_action');
      const paymentId = await paymentOf(intent.id);
      await arrival(hooks.got, 'payment.requires_action', { paymentId });
      await s.stripe.paymentIntents.cancel(intent.id, { cancellation_reason: 'abandoned' });
      const canceled = await arrival(hooks.got, 'payment.canceled', { paymentId });
      const now = Math.floor(Date.now() / 1000);
      expect(
        verifySignature(endpoint.secret, canceled.body, String(canceled.headers['x-billing-signature']), now),
      ).toBe(true);
      expect(bodyOf(canceled).data).toMatchObject({
        status: 'canceled',
        previousStatus: 'requires_action',
        amount: 1500,
        amountReceived: 0,
      });
      expect(await eventsOf(paymentId)).toEqual(['payment.canceled', 'payment.requires_action']);
    } finally {
      hooks.server.close();
    }
  }, 60_000);

  it('a status the payment comes back to (a retry after a failed challenge) is announced again: one event per change', async () => {
    const a = await accountWithCustomer(s, 'en-US', 'UTC');
    const intent = await payByCard(s, a, 2500, 'usd', 'pm_card_authenticationRequired');
    const paymentId = await paymentOf(intent.id);
    await statusIs(paymentId, 'requires_action');
    expect((await threeDSecure(intent.id, 'fail')).status).toBeLessThan(400);
    await statusIs(paymentId, 'failed');
    await s.stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_authenticationRequired' });
    await statusIs(paymentId, 'requires_action');
    expect((await threeDSecure(intent.id, 'fail')).status).toBeLessThan(400);
    await statusIs(paymentId, 'failed');
    await webhooksSettled(s, intent.id);
    // The history has both rounds, and so do the events: each change once, keyed by the payment's version
    // after it (ordered by it here: the test clock gives them one timestamp).
    const history = await s.t.db.query<{ to_status: string }[]>(
      `SELECT to_status FROM payment_status_history WHERE payment_id = $1 ORDER BY id`,
      [paymentId],
    );
    expect(history.map((h) => h.to_status).filter((t) => t !== 'pending')).toEqual([
      'requires_action',
      'failed',
      'requires_action',
      'failed',
    ]);
    const events = await s.t.db.query<{ type: string; previous: string | null }[]>(
      `SELECT type, payload->>'previousStatus' AS previous FROM integration_events
        WHERE subject_id = $1 ORDER BY substring(dedupe_key from ':v([0-9]+)$')::int`,
      [paymentId],
    );
    // The first one's previous status depends on which of the PaymentIntent's events made the row.
    expect(events.map((e, i) => `${i === 0 ? '' : (e.previous ?? 'null')} -> ${e.type}`)).toEqual([
      ' -> payment.requires_action',
      'requires_action -> payment.failed',
      'failed -> payment.requires_action',
      'requires_action -> payment.failed',
    ]);
  }, 60_000);
});
