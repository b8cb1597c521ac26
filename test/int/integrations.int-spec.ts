import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../apps/billing-api/src/modules/integrations/signature.js';
import { http } from '../support/test-app.js';
import {
  accountWithCustomer,
  payByCard,
  startPaymentsStack,
  type PaymentsStack,
} from './notifications.support.js';
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

describe('outbound integration events: signed POSTs to configured endpoints, retried, logged', () => {
  let s: PaymentsStack;
  let good: Awaited<ReturnType<typeof receiver>>;
  let flaky: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    s = await startPaymentsStack();
    good = await receiver();
    flaky = await receiver(2);
  });
  afterAll(async () => {
    await s?.close();
    good?.server.close();
    flaky?.server.close();
  });

  it('payment.succeeded, refund.succeeded and payment.refunded reach every endpoint, signed; a failing one is retried', async () => {
    const createEndpoint = async (url: string) => {
      const r = await http<{ id: string; secret: string }>(
        s.t.url,
        'POST',
        '/v1/admin/integration-endpoints',
        {
          token: s.admin,
          body: { url, description: 'orders' },
        },
      );
      expect(r.status).toBe(201);
      return r.body;
    };
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
    const refunded = await until(
      async () =>
        good.got.find((r) => bodyOf(r).type === 'payment.refunded' && bodyOf(r).data.paymentId === paymentId),
      'payment.refunded',
    );
    expect(bodyOf(refunded).data).toMatchObject({ status: 'partially_refunded', amountRefunded: 2000 });
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
});
