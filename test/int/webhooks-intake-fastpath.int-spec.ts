import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_URL } from '../support/test-env.js';
import { customer, deliver, randomUUID, SECRET, sign, stripeEvent, until } from './webhooks.support.js';
import { BUILT_MAIN, requireBuild } from '../support/built-service.js';

/**
 * `POST /webhooks/stripe` is served by Fastify directly, outside Nest's guards, interceptors and pipes
 * (issue 4). What it must keep: the raw body, the one error shape with the request id, the Fastify hooks
 * (x-request-id; helmet is skipped), 503 when PostgreSQL is unreachable, no JWT, no rate limit, no card-data check,
 * and its Swagger entry.
 */

interface ErrorBody {
  error: { code: string; message: string; request_id: string; param?: string };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function storedIds(db: TestApp['db'], ids: string[]): Promise<string[]> {
  const rows = await db.query<{ id: string }[]>(`SELECT id FROM webhook_events WHERE id = ANY($1)`, [ids]);
  return rows.map((r) => r.id);
}

describe('webhook intake fast path (in process)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      role: 'api',
      // A tiny per-IP limit: the Nest routes of this app are turned away quickly, the intake never.
      env: { STRIPE_WEBHOOK_SECRETS: SECRET, RATE_LIMIT_IP_PER_MINUTE: '3' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('verifies over the raw bytes: a body whose JSON re-serialisation differs is accepted and stored as sent', async () => {
    const event = stripeEvent('test.fastpath_raw', { id: 'obj_raw', note: 'spaced  out' });
    // Indented, with a trailing newline: JSON.stringify(JSON.parse(body)) would not match the signature.
    const body = `${JSON.stringify(event, null, 2)}\n`;
    const first = await deliver(t.url, body);
    expect(first).toEqual({ status: 200, body: { received: true, duplicate: false } });
    const again = await deliver(t.url, body);
    expect(again).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const rows = await t.db.query<{ payload: unknown; status: string }[]>(
      `SELECT payload, status FROM webhook_events WHERE id = $1`,
      [event.id],
    );
    expect(rows).toEqual([{ payload: JSON.parse(body) as unknown, status: 'pending' }]);
  });

  it('refuses a bad signature with the standard error shape and the caller x-request-id (no browser headers); stores nothing', async () => {
    const event = stripeEvent('customer.updated', customer('cus_fastpath_bad'));
    const body = JSON.stringify(event);
    const requestId = `fastpath-${randomUUID()}`;
    const response = await fetch(`${t.url}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': sign(body, 'whsec_not_ours'),
        'x-request-id': requestId,
      },
      body,
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('x-request-id')).toBe(requestId);
    // Helmet's browser headers are skipped on this machine-to-machine route (they stay on the others).
    expect(response.headers.get('x-content-type-options')).toBeNull();
    expect(await response.json()).toEqual({
      error: {
        code: 'invalid_signature',
        message: 'The Stripe-Signature header does not verify.',
        request_id: requestId,
      },
    });
    expect(await storedIds(t.db, [event.id])).toEqual([]);

    // The same shape as an error of a Nest route (global filter), e.g. a 401 without a token.
    const nest = await http<ErrorBody>(t.url, 'GET', '/v1/admin/accounts', {
      headers: { 'x-request-id': `${requestId}-nest` },
    });
    expect(nest.status).toBe(401);
    expect(nest.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(nest.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Object.keys(nest.body)).toEqual(['error']);
    expect(Object.keys(nest.body.error).sort()).toEqual(['code', 'message', 'request_id']);
    expect(nest.body.error.request_id).toBe(`${requestId}-nest`);
  });

  it('generates an x-request-id when the caller sends none, and names it in the error body', async () => {
    const refused = await fetch(`${t.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 'x' },
      body: '{}',
    });
    const id = refused.headers.get('x-request-id');
    expect(id).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
    expect(((await refused.json()) as ErrorBody).error.request_id).toBe(id);
  });

  it('needs no bearer token, ignores a bad one, and does not judge card numbers in the payload', async () => {
    const event = stripeEvent('test.fastpath_card', {
      id: 'obj_card',
      metadata: { note: 'card 4242 4242 4242 4242 exp 12/34' },
    });
    const body = JSON.stringify(event);
    for (const authorization of [undefined, 'Bearer not-a-jwt']) {
      const response = await fetch(`${t.url}/webhooks/stripe`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': sign(body),
          ...(authorization ? { authorization } : {}),
        },
        body,
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    expect(await storedIds(t.db, [event.id])).toEqual([event.id]);
  });

  it('is not rate limited: deliveries are accepted while this IP is over its limit on the API', async () => {
    const admin = await tokenFor({ sub: 'admin-fastpath', role: 'admin' });
    const statuses: number[] = [];
    for (let i = 0; i < 6 && !statuses.includes(429); i++) {
      statuses.push((await http(t.url, 'GET', '/v1/admin/accounts', { token: admin })).status);
    }
    expect(statuses).toContain(429); // the limit is in force for this address
    const events = Array.from({ length: 5 }, (_, i) =>
      stripeEvent('test.fastpath_limit', { id: `obj_${i}` }),
    );
    const responses = await Promise.all(events.map((e) => deliver(t.url, e)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(
      (
        await storedIds(
          t.db,
          events.map((e) => e.id),
        )
      ).length,
    ).toBe(5);
  });

  it('is documented in Swagger with its summary, header and responses', async () => {
    const doc = await http<{
      paths: Record<
        string,
        {
          post?: {
            summary: string;
            tags: string[];
            parameters: { name: string; in: string; required: boolean }[];
            responses: Record<string, { description: string; content: unknown }>;
          };
        }
      >;
      components: { schemas: Record<string, unknown> };
    }>(t.url, 'GET', '/docs-json');
    expect(doc.status).toBe(200);
    const post = doc.body.paths['/webhooks/stripe']?.post;
    expect(post?.summary).toBe('Receive a Stripe event (called by Stripe).');
    expect(post?.tags).toEqual(['webhooks']);
    expect(post?.parameters).toEqual([expect.objectContaining({ name: 'stripe-signature', in: 'header' })]);
    expect(Object.keys(post?.responses ?? {}).sort()).toEqual(['200', '400', '500', '503']);
    expect(post?.responses['400']?.description).toBe('Error codes: `invalid_signature`');
    expect(post?.responses['503']?.description).toBe('Error codes: `service_unavailable`');
    expect(post?.responses['400']?.content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/ErrorResponseDto' } },
    });
    expect(doc.body.components.schemas.ErrorResponseDto).toBeDefined();
  });
});

// PostgreSQL unreachable at intake (503 in the standard shape, stored once it is back):
// webhooks-resilience.int-spec.ts.

const MAIN = BUILT_MAIN;
describe('webhook intake fast path in the compiled service (APP_ROLE=api)', () => {
  beforeAll(() => requireBuild(MAIN));

  it('has the raw body, and logs a refused signature with the source address but no payload or signature', async () => {
    const child: ChildProcess = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        APP_ROLE: 'api',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        DATABASE_URL: TEST_DATABASE_URL,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: `wh-fastpath-${randomUUID().slice(0, 8)}`,
        JWT_SECRET: TEST_JWT_SECRET,
        STRIPE_WEBHOOK_SECRETS: SECRET,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const url = await until(
      async () => /listening on (http:\/\/\S+)/.exec(out)?.[1],
      'the compiled api listening',
      30_000,
    );

    const good = stripeEvent('test.fastpath_compiled', { id: 'obj_compiled' });
    expect(await deliver(url, `${JSON.stringify(good, null, 1)}\n`)).toEqual({
      status: 200,
      body: { received: true, duplicate: false },
    });

    const marker = `payload-marker-${randomUUID()}`;
    const bad = JSON.stringify(stripeEvent('customer.updated', { id: marker }));
    const badSignature = sign(bad, 'whsec_not_ours');
    const refused = await deliver(url, bad, { signature: badSignature });
    expect(refused.status).toBe(400);
    const warning = await until(
      async () => out.split('\n').find((l) => l.includes('webhook signature verification failed')),
      'the warning log line',
    );
    expect(JSON.parse(warning)).toMatchObject({ sourceIp: '127.0.0.1' });
    expect(out).not.toContain(marker);
    expect(out).not.toContain(badSignature.split('v1=')[1] ?? 'no signature');

    const direct = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await direct.connect();
    cleanups.push(() => direct.end());
    const rows = await direct.query(`SELECT id FROM webhook_events WHERE id = $1`, [good.id]);
    expect(rows.rowCount).toBe(1);
  });
});
