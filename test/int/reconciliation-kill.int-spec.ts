import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { JobQueue } from '../../apps/billing-api/src/platform/queue/job-queue.js';
import { BUILT_MAIN, requireBuild } from '../support/built-service.js';
import { startStripeWorld, WORLD_WEBHOOK_SECRET, type StripeWorld } from '../support/stripe-world.js';
import { http } from '../support/test-app.js';
import { TEST_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_URL } from '../support/test-env.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import {
  dashboard,
  emulatorAdmin,
  findingsOf,
  reconciliationAudits,
  webhooksSettled,
  type RunBody,
  untilRunEnds,
} from './reconciliation.support.js';
import { createAccount, until } from './webhooks.support.js';

interface RunRow {
  status: string;
  cursor: { phase: string; after: string | null } | null;
  stats: RunBody['stats'] & { resumed?: number };
  lease_owner: string | null;
  lease_live: boolean;
}

interface Worker {
  process: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const workers: Worker[] = [];

/** The compiled service as a worker process (APP_ROLE=worker), as operators run it. */
function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [BUILT_MAIN], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', APP_ROLE: 'worker', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const worker = { process: child, output: () => out, exited };
  workers.push(worker);
  return worker;
}

// Issue 21's crash-resume, with a real crash: the run's worker is a compiled worker process, killed with
// SIGKILL once its first page is stored, inside the Stripe pass, typically while it waits for the next
// page (no shutdown hook runs, its lease stays as it was); a second worker process takes the run over once
// the lease has run out and finishes it from the stored cursor. Pages of two and Stripe answers slowed to
// 500 ms, so that the kill lands inside the Stripe pass (the next pages take seconds; the test polls every
// 50 ms).
describe('a reconciliation worker killed mid-run (compiled service, child processes)', () => {
  let w: StripeWorld;
  const prefix = `recon-kill-${randomUUID().slice(0, 8)}`;
  const reconciliation = { RECONCILIATION_PAGE_SIZE: '2', RECONCILIATION_LEASE_SECONDS: '10' };
  let workerEnv: Record<string, string>;

  beforeAll(async () => {
    requireBuild();
    // The in-process app is the api only: every job (webhooks, the run) is the worker processes'.
    w = await startStripeWorld({ role: 'api', env: { QUEUE_PREFIX: prefix, ...reconciliation } });
    workerEnv = {
      LOG_LEVEL: 'warn',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      JWT_SECRET: TEST_JWT_SECRET,
      STRIPE_API_BASE: w.kit.emulator.url,
      STRIPE_SECRET_KEY: w.key,
      STRIPE_WEBHOOK_SECRETS: WORLD_WEBHOOK_SECRET,
      ...reconciliation,
    };
  });
  afterAll(async () => {
    for (const worker of workers.splice(0)) {
      if (worker.process.exitCode === null && worker.process.signalCode === null)
        worker.process.kill('SIGKILL');
      await worker.exited;
    }
    await w?.close();
  });

  async function runRow(id: string): Promise<RunRow> {
    const [row] = await w.t.db.query<RunRow[]>(
      `SELECT status, cursor, stats, lease_owner, lease_expires_at > now() AS lease_live
         FROM reconciliation_runs WHERE id = $1`,
      [id],
    );
    if (!row) throw new Error(`no run ${id}`);
    return row;
  }

  it('another worker resumes it from its cursor once the lease ran out; nothing is counted twice', async () => {
    const first = startWorker(workerEnv);
    await until(
      async () => /billing-worker started/.test(first.output()),
      'the first worker started',
      30_000,
    );

    const prices = await createCatalogue(w.stripe);
    const subs: Stripe.Subscription[] = [];
    for (let i = 0; i < 8; i++) {
      const accountId = await createAccount(w.t.url, w.admin);
      const customer = await w.stripe.customers.create({
        email: 'o@example.test',
        metadata: { account_id: accountId },
      });
      const pm = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
      await w.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
      subs.push(
        await w.stripe.subscriptions.create({ customer: customer.id, items: [{ price: prices.proMonth }] }),
      );
    }
    await webhooksSettled(w); // applied by the first worker
    // Stripe lists newest first: the newest is on the run's first page (done before the kill), the oldest
    // on its last (done after it). Unsafe: canceled at Stripe; safe: cancel at period end (repaired).
    const newest = subs.at(-1);
    const oldest = subs[0];
    const middle = subs[3];
    if (!newest || !oldest || !middle) throw new Error('no subscriptions');
    await dashboard(w, 'subscriptions', newest.id, { status: 'canceled' });
    await dashboard(w, 'subscriptions', middle.id, { cancel_at_period_end: true });
    await dashboard(w, 'subscriptions', oldest.id, { cancel_at_period_end: true });
    await emulatorAdmin(w, '/_emulator/chaos', { latencyMs: 500 });

    const started = await http<RunBody>(w.t.url, 'POST', '/v1/admin/reconciliation/runs', {
      token: w.admin,
      body: {
        from: new Date(Date.now() - 60 * 60 * 1000).toISOString(),
        to: new Date(Date.now() + 1000).toISOString(),
      },
    });
    expect(started.status).toBe(202);
    const runId = started.body.id;
    await until(
      async () => {
        const row = await runRow(runId);
        return row.cursor?.phase === 'subscription.stripe' && row.cursor.after !== null;
      },
      'the first worker past the run’s first page',
      20_000,
    );
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    // What the dead worker left: a running run, mid Stripe pass, under its live lease.
    const left = await runRow(runId);
    expect(left).toMatchObject({ status: 'running', lease_live: true });
    expect(left.lease_owner).not.toBeNull();
    expect(left.cursor?.phase).toBe('subscription.stripe');
    const [before] = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM reconciliation_findings WHERE run_id = $1 AND stripe_id = $2`,
      [runId, newest.id],
    );
    expect(before?.n).toBe(1);
    await emulatorAdmin(w, '/_emulator/chaos', { reset: true });

    const second = startWorker({ ...workerEnv, LOG_LEVEL: 'info', METRICS_PORT: '0' });
    await until(
      async () => /billing-worker started/.test(second.output()),
      'the second worker started',
      30_000,
    );
    // Held until the dead worker's lease runs out (the second worker's check would find nothing before).
    await until(async () => !(await runRow(runId)).lease_live, 'the dead worker’s lease to run out', 15_000);
    // The check the second worker's repeatable job makes every minute, queued now rather than waited for.
    await w.t.app.get(JobQueue).enqueue('reconciliation.resume-abandoned', {});
    const done = await untilRunEnds(
      () => runRow(runId),
      'the second worker to resume and finish the run',
      30_000,
    );

    expect(done.status).toBe('completed');
    expect(done.lease_owner).toBeNull();
    expect(done.cursor).toBeNull();
    expect(done.stats.resumed).toBe(1);
    // Every subscription compared once: the dead worker's pages are not done again, its last one is not
    // counted twice.
    const atStripe = (await w.stripe.subscriptions.list({ status: 'all', limit: 100 })).data.length;
    expect(done.stats.compared.subscription).toBe(atStripe);
    const run = (
      await http<RunBody>(w.t.url, 'GET', `/v1/admin/reconciliation/runs/${runId}`, { token: w.admin })
    ).body;
    expect(findingsOf(run, newest.id)).toEqual(['status:open']);
    expect(findingsOf(run, middle.id)).toEqual(['cancel_at_period_end:repaired']);
    expect(findingsOf(run, oldest.id)).toEqual(['cancel_at_period_end:repaired']);
    expect(run.findings).toHaveLength(3);
    expect(run.stats.findings).toBe(3);
    for (const repaired of [middle, oldest]) {
      expect(await reconciliationAudits(w.t.db, repaired.id)).toEqual(['reconciliation.drift_repaired']);
    }
    const [seen] = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM reconciliation_seen WHERE run_id = $1`,
      [runId],
    );
    expect(seen?.n).toBe(0);

    // The second worker says so: its log and its own metrics.
    expect(second.output()).toMatch(/reconciliation run resumed from its cursor/);
    const metricsPort = await until(
      async () => /worker metrics on port (\d+)/.exec(second.output())?.[1] ?? null,
      'the second worker to name its metrics port',
    );
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^billing_reconciliation_runs_resumed_total 1$/m);
  }, 90_000);
});
