import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ManualClock } from '../../apps/billing-api/src/platform/clock/clock.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_URL } from '../support/test-env.js';
import {
  accountMirror,
  auditCount,
  createAccount,
  customer,
  deliver,
  inboxRow,
  SECRET,
  sign,
  statusIs,
  stripeEvent,
  until,
} from './webhooks.support.js';
import { BUILT_MAIN, requireBuild } from '../support/built-service.js';

const MAIN = BUILT_MAIN;

const started: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of started.splice(0).reverse()) await s.close().catch(() => undefined);
});
afterAll(async () => {
  for (const s of started.splice(0).reverse()) await s.close().catch(() => undefined);
});

async function app(options: Parameters<typeof startTestApp>[0]): Promise<TestApp> {
  const t = await startTestApp(options);
  started.push(t);
  return t;
}

function proxyFor(url: string): TcpProxy {
  const u = new URL(url);
  return new TcpProxy(u.hostname, Number(u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)));
}

function through(url: string, port: number): string {
  const u = new URL(url);
  u.host = `127.0.0.1:${port}`;
  return u.toString();
}

describe('webhook intake when a dependency is down', () => {
  it('PostgreSQL down: 503 (Stripe retries), nothing acknowledged; stored on the next delivery', async () => {
    const proxy = proxyFor(TEST_DATABASE_URL);
    const port = await proxy.start();
    started.push({ close: () => proxy.stop() });
    const api = await app({
      role: 'api',
      env: { DATABASE_URL: through(TEST_DATABASE_URL, port), STRIPE_WEBHOOK_SECRETS: SECRET },
    });
    const direct = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await direct.connect();
    started.push({ close: () => direct.end() });

    const event = stripeEvent('test.db_down', { id: 'obj_db_down' });
    const body = JSON.stringify(event);
    await proxy.stop();
    // The intake's own route answers in the standard error shape, with the request id.
    const refused = await fetch(`${api.url}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': sign(body),
        'x-request-id': 'db-down',
      },
      body,
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('x-request-id')).toBe('db-down');
    expect(await refused.json()).toEqual({
      error: {
        code: 'service_unavailable',
        message: 'The event could not be stored; retry later.',
        request_id: 'db-down',
      },
    });
    const none = await direct.query(`SELECT 1 FROM webhook_events WHERE id = $1`, [event.id]);
    expect(none.rowCount).toBe(0);

    await proxy.start(port);
    const accepted = await until(async () => {
      const r = await deliver(api.url, event);
      return r.status === 200 ? r : null;
    }, 'a delivery accepted once PostgreSQL is back');
    expect(accepted.body).toEqual({ received: true, duplicate: false });
    const stored = await direct.query(`SELECT status FROM webhook_events WHERE id = $1`, [event.id]);
    expect(stored.rows).toEqual([{ status: 'pending' }]);
  });

  it('Redis down at intake: stored and 200 without hanging; the sweeper queues it; applied exactly once', async () => {
    const proxy = proxyFor(TEST_REDIS_URL);
    const port = await proxy.start();
    started.push({ close: () => proxy.stop() });
    const clock = new ManualClock(new Date());
    const prefix = `wh-redis-${randomUUID().slice(0, 8)}`;
    const common = {
      QUEUE_PREFIX: prefix,
      STRIPE_WEBHOOK_SECRETS: SECRET,
      WEBHOOK_ENQUEUE_TIMEOUT_MS: '300',
    };
    const api = await app({
      role: 'api',
      clock,
      env: { ...common, REDIS_URL: through(TEST_REDIS_URL, port) },
    });
    const worker = await app({
      role: 'worker',
      clock,
      env: { ...common, WEBHOOK_SWEEP_INTERVAL_MS: '300', WEBHOOK_SWEEP_AFTER_MS: '1000' },
    });
    const admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
    const accountId = await createAccount(api.url, admin);

    await proxy.stop();
    const event = stripeEvent(
      'customer.updated',
      customer(`cus_${randomUUID().slice(0, 10)}`, { accountId, balance: 4200 }),
    );
    const startedAt = Date.now();
    const response = await deliver(api.url, event);
    expect(response.status).toBe(200);
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect((await inboxRow(worker.db, event.id))?.status).toBe('pending');

    // Older than the sweep threshold: the worker's sweeper finds it and queues it.
    clock.advance(5000);
    const row = await until(statusIs(worker.db, event.id, ['processed']), 'processed by the sweeper');
    expect(row.attempts).toBe(1);
    expect((await accountMirror(worker.db, accountId))?.stripe_balance).toBe('4200');

    // Redis comes back for the api: a late enqueue of the same event id changes nothing.
    await proxy.start(port);
    await until(async () => (await fetch(`${api.url}/health/ready`)).status === 200, 'api ready again');
    const again = await deliver(api.url, event);
    expect(again.body).toEqual({ received: true, duplicate: true });
    expect(await auditCount(worker.db, 'account.stripe_balance_changed', accountId)).toBe(1);
    expect((await inboxRow(worker.db, event.id))?.attempts).toBe(1);
  });
});

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(env: Record<string, string>): Child {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      APP_ROLE: 'worker',
      LOG_LEVEL: 'warn',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      JWT_SECRET: TEST_JWT_SECRET,
      STRIPE_WEBHOOK_SECRETS: SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  started.push({
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  });
  return { process: child, output: () => out, exited };
}

describe('a worker killed while applying an event (compiled service, child processes)', () => {
  beforeAll(() => requireBuild(MAIN));

  it('applies the event exactly once after another worker starts', async () => {
    const prefix = `wh-crash-${randomUUID().slice(0, 8)}`;
    const api = await app({ role: 'api', env: { QUEUE_PREFIX: prefix, STRIPE_WEBHOOK_SECRETS: SECRET } });
    const admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
    const accountId = await createAccount(api.url, admin);

    // The test holds the account row: the handler, which locks it, blocks inside its transaction.
    const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    started.push({ close: () => holder.end() });
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);

    const first = startWorker({ QUEUE_PREFIX: prefix, WEBHOOK_SWEEP_AFTER_MS: '3600000' });
    await until(async () => /billing-worker started/.test(first.output()), 'first worker started', 30_000);

    const event = stripeEvent(
      'customer.updated',
      customer(`cus_${randomUUID().slice(0, 10)}`, { accountId, balance: 777 }),
    );
    expect((await deliver(api.url, event)).status).toBe(200);
    await until(statusIs(api.db, event.id, ['processing']), 'claimed by the first worker');
    // The backend of the first worker, blocked by the test's lock (read outside the holder's
    // transaction: pg_stat_activity is a per-transaction snapshot).
    const holderPid = ((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
    const blockedPid = await until(async () => {
      const found = await api.db.query<{ pid: number }[]>(
        `SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
        [holderPid],
      );
      return found[0]?.pid;
    }, 'the handler blocked on the account lock');

    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    await holder.query('ROLLBACK');

    // Nothing was committed by the killed worker.
    await until(
      async () =>
        (await api.db.query<unknown[]>(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [blockedPid]))
          .length === 0,
      'the killed worker backend gone',
    );
    expect((await inboxRow(api.db, event.id))?.status).toBe('processing');
    expect((await accountMirror(api.db, accountId))?.stripe_balance).toBe('0');

    // Any free port (0), which the worker names in its log: a port looked up here and closed again could
    // be taken by another connection's ephemeral port before the worker listens on it.
    const second = startWorker({
      QUEUE_PREFIX: prefix,
      WEBHOOK_SWEEP_INTERVAL_MS: '500',
      WEBHOOK_SWEEP_AFTER_MS: '1000',
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
    });
    const row = await until(statusIs(api.db, event.id, ['processed']), 'processed after restart', 40_000);
    expect(row).toMatchObject({ outcome: 'applied', attempts: 2 });
    expect((await accountMirror(api.db, accountId))?.stripe_balance).toBe('777');
    expect(await auditCount(api.db, 'account.stripe_balance_changed', accountId)).toBe(1);
    expect(second.output()).not.toMatch(/start-up failed/);

    // The worker has no HTTP API but serves its own metrics (processing lag) on METRICS_PORT. The lag is
    // observed just after the commit the test saw, so wait for the scrape to show it.
    const lagLine = /billing_webhook_processing_lag_seconds_count\{outcome="applied"\} 1/;
    const metricsPort = await until(
      async () => /worker metrics on port (\d+)/.exec(second.output())?.[1] ?? null,
      'the worker to name its metrics port',
    );
    const scraped = await until(async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return lagLine.test(text) ? text : null;
    }, 'the worker metrics to show the processing lag');
    expect(scraped).toMatch(lagLine);
  }, 90_000);
});
