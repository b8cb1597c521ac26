import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { customer, deliver, eventId, SECRET, statusIs, stripeEvent, until } from './webhooks.support.js';

interface StoredRow {
  id: string;
  type: string;
  status: string;
  payload: unknown;
  raw_body: Buffer | null;
  last_error: string | null;
}

/**
 * Issue 16, defect 3: a correctly signed body is acknowledged whatever it holds. An event with a string
 * PostgreSQL cannot hold (U+0000, a lone surrogate) is stored with it replaced, its exact bytes beside
 * it, and applied; a body that is not an event the inbox can key (no id/type/created, created out of
 * range, not an object) is dead-lettered with its raw body and reason. Before: 503 forever.
 */
describe('webhook intake: every signed body is stored or dead-lettered, and acknowledged', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ role: 'all', env: { STRIPE_WEBHOOK_SECRETS: SECRET } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const row = async (id: string): Promise<StoredRow | undefined> =>
    (
      await t.db.query<StoredRow[]>(
        `SELECT id, type, status, payload, raw_body, last_error FROM webhook_events WHERE id = $1`,
        [id],
      )
    )[0];

  it.each([
    ['U+0000 in a string', 'Ann\u0000Lee', 'Ann\ufffdLee'],
    ['a lone surrogate in a string', 'cut \ud800', 'cut \ufffd'],
    ['a lone low surrogate', '\udc00 end', '\ufffd end'],
  ])(
    '%s: stored with it replaced and the raw bytes kept, acknowledged, applied',
    async (_n, name, stored) => {
      const event = stripeEvent('customer.updated', { ...customer(`cus_${eventId()}`), name });
      const body = JSON.stringify(event);
      const first = await deliver(t.url, body);
      expect(first).toEqual({ status: 200, body: { received: true, duplicate: false } });
      expect(await deliver(t.url, body)).toEqual({ status: 200, body: { received: true, duplicate: true } });
      const done = await until(
        statusIs(t.db, event.id, ['processed', 'ignored']),
        `event ${event.id} applied`,
      );
      expect(done).toBeTruthy();
      const r = await row(event.id);
      expect((r?.payload as { data: { object: { name: string } } }).data.object.name).toBe(stored);
      expect(r?.raw_body?.toString('utf8')).toBe(body);
    },
  );

  it('U+0000 in the event id: stored under the id with it replaced, applied once', async () => {
    const event = stripeEvent('customer.updated', customer(`cus_${eventId()}`), {
      id: `evt_nul\u0000${eventId()}`,
    });
    const body = JSON.stringify(event);
    expect((await deliver(t.url, body)).status).toBe(200);
    const storedId = event.id.replace('\u0000', '\ufffd');
    await until(statusIs(t.db, storedId, ['processed', 'ignored']), 'applied');
    expect((await deliver(t.url, body)).body).toEqual({ received: true, duplicate: true });
  });

  const valid = () =>
    stripeEvent('customer.updated', customer(`cus_${eventId()}`)) as unknown as Record<string, unknown>;
  it.each([
    ['no id', () => ({ ...valid(), id: undefined }), 'no id'],
    ['an empty id', () => ({ ...valid(), id: '' }), 'no id'],
    ['no type', () => ({ ...valid(), type: undefined }), 'no type'],
    ['a numeric type', () => ({ ...valid(), type: 7 }), 'no type'],
    ['no created', () => ({ ...valid(), created: undefined }), 'no integer created'],
    ['created 1e15', () => ({ ...valid(), created: 1e15 }), 'created out of range'],
    ['created negative', () => ({ ...valid(), created: -1 }), 'created out of range'],
    ['an array body', () => [], 'not a JSON object'],
    ['a JSON string body', () => 'evt_as_a_string', 'not a JSON object'],
    ['null', () => null, 'not a JSON object'],
  ])('%s: dead-lettered with its raw body and reason, acknowledged once', async (_n, make, reason) => {
    const body = JSON.stringify(make());
    const first = await deliver(t.url, body);
    expect(first).toEqual({ status: 200, body: { received: true, duplicate: false } });
    const again = await deliver(t.url, body);
    expect(again).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const id = `malformed_${createHash('sha256').update(body).digest('hex')}`;
    const r = await row(id);
    expect(r).toMatchObject({ type: 'malformed', status: 'dead', last_error: `malformed event: ${reason}` });
    expect(r?.raw_body?.toString('utf8')).toBe(body);
  });

  it('a malformed body with U+0000 too is dead-lettered with its bytes', async () => {
    const body = JSON.stringify({ type: 'customer.updated', note: 'a\u0000b' });
    expect((await deliver(t.url, body)).status).toBe(200);
    const r = await row(`malformed_${createHash('sha256').update(body).digest('hex')}`);
    expect(r?.payload).toEqual({ type: 'customer.updated', note: 'a\ufffdb' });
    expect(r?.raw_body?.toString('utf8')).toBe(body);
  });
});
