import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Job } from 'bull';
import type Stripe from 'stripe';
import type { JobEnvelope } from '../../apps/billing-api/src/platform/queue/queue.registry.js';
import { RunReconciliationHandler } from '../../apps/billing-api/src/modules/reconciliation/commands/run-reconciliation/run-reconciliation.handler.js';
import { ReconciliationRunOrmEntity } from '../../apps/billing-api/src/modules/reconciliation/persistence/reconciliation-run.orm-entity.js';
import { ReconciliationProcessor } from '../../apps/billing-api/src/modules/reconciliation/jobs/reconciliation.processor.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http } from '../support/test-app.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import {
  dashboard,
  emulatorAdmin,
  findingsOf,
  webhooksSettled,
  type RunBody,
  untilRunEnds,
} from './reconciliation.support.js';
import { createAccount, metricValue, until } from './webhooks.support.js';

interface RunRow {
  status: string;
  cursor: { phase: string; after: string | null } | null;
  stats: RunBody['stats'] & { pageRetries?: number; resumed?: number };
}

// Page-level retry and resume (issue 21): pages of two, so that a run has several pages; a short lease.
// Stripe's failures come from the emulator's chaos switch (500s, more than the SDK retries); a worker
// crash leaves what a dead worker leaves: a running run with its cursor, its seen ids and findings of the
// pages it did, and a lease that runs out.
describe('reconciliation runs retry a failed page and resume a dead worker’s run from its cursor', () => {
  let w: StripeWorld;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;
  const windowStart = new Date(Date.now() - 60 * 60 * 1000);
  let runs = 0;
  const nextWindow = () => ({ from: windowStart, to: new Date(Date.now() + 2000 + ++runs) });
  const subs: Stripe.Subscription[] = [];

  beforeAll(async () => {
    w = await startStripeWorld({
      env: {
        RECONCILIATION_PAGE_SIZE: '2',
        RECONCILIATION_PAGE_RETRY_DELAY_MS: '20',
        RECONCILIATION_LEASE_SECONDS: '10',
      },
    });
    prices = await createCatalogue(w.stripe);
    for (let i = 0; i < 7; i++) {
      const accountId = await createAccount(w.t.url, w.admin);
      const customer = await w.stripe.customers.create({
        email: 'o@example.test',
        metadata: { account_id: accountId },
      });
      const pm = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
      await w.stripe.customers.update(customer.id, {
        invoice_settings: { default_payment_method: pm.id },
      });
      subs.push(
        await w.stripe.subscriptions.create({ customer: customer.id, items: [{ price: prices.proMonth }] }),
      );
    }
    await webhooksSettled(w);
  });
  afterAll(async () => {
    await w?.close();
  });

  async function runRow(id: string): Promise<RunRow> {
    const [row] = await w.t.db.query<RunRow[]>(
      `SELECT status, cursor, stats FROM reconciliation_runs WHERE id = $1`,
      [id],
    );
    if (!row) throw new Error(`no run ${id}`);
    return row;
  }

  /** billing_reconciliation_page_retries_total, summed over passes. */
  async function pageRetriesMetric(): Promise<number> {
    const text = await (await fetch(`${w.t.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('billing_reconciliation_page_retries_total{'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }

  async function runBody(id: string): Promise<RunBody> {
    return (await http<RunBody>(w.t.url, 'GET', `/v1/admin/reconciliation/runs/${id}`, { token: w.admin }))
      .body;
  }

  async function start(window: { from: Date; to: Date }): Promise<string> {
    const started = await http<RunBody>(w.t.url, 'POST', '/v1/admin/reconciliation/runs', {
      token: w.admin,
      body: { from: window.from.toISOString(), to: window.to.toISOString() },
    });
    expect(started.status).toBe(202);
    return started.body.id;
  }

  it('a page that still fails after the SDK’s retries is retried from the stored cursor; nothing is counted twice', async () => {
    const canceled = subs[1];
    if (!canceled) throw new Error('no subscription');
    await dashboard(w, 'subscriptions', canceled.id, { status: 'canceled' });
    const retriesBefore = await pageRetriesMetric();
    // Slow Stripe answers, so that the run is caught between pages.
    await emulatorAdmin(w, '/_emulator/chaos', { latencyMs: 150 });
    try {
      const id = await start(nextWindow());
      await until(
        async () => {
          const row = await runRow(id);
          return row.cursor?.phase === 'subscription.stripe' && row.cursor.after !== null;
        },
        'the run past its first page',
        30_000,
      );
      // Five 500s in a row: the SDK's three attempts at the next page fail, and the run's own retry of
      // the page from its cursor meets the last two before it gets through.
      await emulatorAdmin(w, '/_emulator/chaos', { failNext: 5 });
      const done = await untilRunEnds(() => runRow(id), 'the run to finish', 60_000);
      expect(done.status).toBe('completed');
      expect(done.stats.pageRetries).toBeGreaterThanOrEqual(1);
      // Every subscription compared once: the run did not start over.
      const stripeCount = (await w.stripe.subscriptions.list({ status: 'all', limit: 100 })).data.length;
      expect(done.stats.compared.subscription).toBe(stripeCount);
      const run = await runBody(id);
      expect(findingsOf(run, canceled.id)).toEqual(['status:open']);
      expect(run.stats.findings).toBe(run.findings.length);
      expect(await pageRetriesMetric()).toBeGreaterThan(retriesBefore);
    } finally {
      await emulatorAdmin(w, '/_emulator/chaos', { reset: true });
    }
  });

  it('a run whose worker died is resumed from its cursor by the next worker, once its lease ran out', async () => {
    // Stripe lists newest first: the dead worker did the first page (the two newest) and found the
    // newest canceled; what changed at Stripe on those two since is not this run's to see.
    const [first, second] = subs.slice(-2).reverse();
    const later = subs[2];
    if (!first || !second || !later) throw new Error('no subscriptions');
    await dashboard(w, 'subscriptions', first.id, { status: 'canceled' });
    const window = nextWindow();
    const runId = (
      await w.t.db.query<{ id: string }[]>(
        `INSERT INTO reconciliation_runs (id, window_start, window_end, trigger, status, stats, started_at,
           cursor, lease_owner, lease_expires_at)
         VALUES (gen_random_uuid(), $1, $2, 'schedule', 'running', $3, now() - interval '1 minute',
           $4, 'worker-that-died:4242:dead', now() - interval '1 second')
         RETURNING id`,
        [
          window.from,
          window.to,
          JSON.stringify({
            compared: { subscription: 2, invoice: 0, payment: 0, refund: 0 },
            findings: 1,
            repaired: 0,
            awaitingAdmin: 1,
            pageRetries: 0,
            resumed: 0,
          }),
          JSON.stringify({ phase: 'subscription.stripe', after: second.id }),
        ],
      )
    )[0]?.id;
    if (!runId) throw new Error('no run');
    await w.t.db.query(
      `INSERT INTO reconciliation_seen (run_id, object_type, stripe_id)
       VALUES ($1, 'subscription', $2), ($1, 'subscription', $3)`,
      [runId, first.id, second.id],
    );
    await w.t.db.query(
      `INSERT INTO reconciliation_findings (id, run_id, object_type, stripe_id, account_id, kind, safe, status,
         app_value, stripe_value, reason, created_at)
       VALUES (gen_random_uuid(), $1, 'subscription', $2, NULL, 'status', false, 'open',
         '{"status":"active"}', '{"status":"canceled"}', 'found by the worker that died', now())`,
      [runId, first.id],
    );
    // After the dead worker's page: a change on its page (not seen again), and one on a later page.
    await dashboard(w, 'subscriptions', second.id, { cancel_at_period_end: true });
    await dashboard(w, 'subscriptions', later.id, { cancel_at_period_end: true });

    // The next worker's periodic check (the repeatable job's handler; run here rather than waited for).
    const job = {
      id: 'resume-check',
      data: { correlationId: 'resume-check', payload: {} },
    } as unknown as Job<JobEnvelope<'reconciliation.resume-abandoned'>>;
    const resumed = await w.t.app.get(ReconciliationProcessor, { strict: false }).resumeAbandoned(job);
    expect(resumed.runId).toBe(runId);
    const done = await untilRunEnds(
      () => runRow(runId),
      'the abandoned run to be resumed and finished',
      60_000,
    );
    expect(done.status).toBe('completed');
    expect(done.stats.resumed).toBe(1);
    expect(done.cursor).toBeNull();
    const stripeCount = (await w.stripe.subscriptions.list({ status: 'all', limit: 100 })).data.length;
    expect(done.stats.compared.subscription).toBe(stripeCount);
    const run = await runBody(runId);
    expect(findingsOf(run, first.id)).toEqual(['status:open']);
    expect(findingsOf(run, second.id)).toEqual([]);
    expect(findingsOf(run, later.id)).toEqual(['cancel_at_period_end:repaired']);
    // Still canceled at Stripe since the first test: found again by this run, once.
    expect(findingsOf(run, subs[1]?.id ?? '')).toEqual(['status:open']);
    expect(run.stats.findings).toBe(3);
    expect(await metricValue(w.t.url, 'billing_reconciliation_runs_resumed_total')).toBeGreaterThanOrEqual(1);
    const [seen] = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM reconciliation_seen WHERE run_id = $1`,
      [runId],
    );
    expect(seen?.n).toBe(0);
  });

  it('a run another worker holds (its lease is live) is left to it', async () => {
    const handler = w.t.app.get(RunReconciliationHandler, { strict: false });
    const window = nextWindow();
    const [row] = await w.t.db.query<{ id: string }[]>(
      `INSERT INTO reconciliation_runs (id, window_start, window_end, trigger, status, stats, started_at,
         cursor, lease_owner, lease_expires_at)
       VALUES (gen_random_uuid(), $1, $2, 'admin', 'running',
         '{"compared":{"subscription":0,"invoice":0,"payment":0},"findings":0,"repaired":0,"awaitingAdmin":0}',
         now(), NULL, 'a-live-worker:1:live', now() + interval '10 minutes')
       RETURNING id`,
      [window.from, window.to],
    );
    const id = row?.id ?? '';
    const run = await w.t.db.getRepository(ReconciliationRunOrmEntity).findOneByOrFail({ id });
    // What the job of the run does when Bull hands it to a second worker, and the periodic check.
    await handler.runClaimed(run);
    expect(await handler.resumeAbandoned()).toBeNull();
    const [after] = await w.t.db.query<{ status: string; lease_owner: string; cursor: unknown }[]>(
      `SELECT status, lease_owner, cursor FROM reconciliation_runs WHERE id = $1`,
      [id],
    );
    expect(after).toEqual({ status: 'running', lease_owner: 'a-live-worker:1:live', cursor: null });
    await w.t.db.query(`DELETE FROM reconciliation_runs WHERE id = $1`, [id]);
  });

  it('runs go one at a time: a run waits while another is held, and runs once that one is done', async () => {
    const handler = w.t.app.get(RunReconciliationHandler, { strict: false });
    const insertRun = async (window: { from: Date; to: Date }, lease: string | null) => {
      const [row] = await w.t.db.query<{ id: string }[]>(
        `INSERT INTO reconciliation_runs (id, window_start, window_end, trigger, status, stats, started_at,
           cursor, lease_owner, lease_expires_at)
         VALUES (gen_random_uuid(), $1, $2, 'admin', 'running',
           '{"compared":{"subscription":0,"invoice":0,"payment":0},"findings":0,"repaired":0,"awaitingAdmin":0}',
           now(), NULL, $3::text, CASE WHEN $3::text IS NULL THEN NULL ELSE now() + interval '10 minutes' END)
         RETURNING id`,
        [window.from, window.to, lease],
      );
      return row?.id ?? '';
    };
    // The hourly run, held by a live worker; then an admin's run of another window.
    const held = await insertRun(nextWindow(), 'a-live-worker:1:live');
    const waiting = await insertRun(nextWindow(), null);
    const repo = w.t.db.getRepository(ReconciliationRunOrmEntity);
    await handler.runClaimed(await repo.findOneByOrFail({ id: waiting }));
    const [left] = await w.t.db.query<{ status: string; lease_owner: string | null; cursor: unknown }[]>(
      `SELECT status, lease_owner, cursor FROM reconciliation_runs WHERE id = $1`,
      [waiting],
    );
    expect(left).toEqual({ status: 'running', lease_owner: null, cursor: null });
    // The other run ends: the waiting one is taken and run to its end.
    await w.t.db.query(
      `UPDATE reconciliation_runs SET status = 'completed', finished_at = now(), lease_owner = NULL,
         lease_expires_at = NULL WHERE id = $1`,
      [held],
    );
    const done = await handler.runClaimed(await repo.findOneByOrFail({ id: waiting }));
    expect(done.status).toBe('completed');
    expect((await runRow(waiting)).status).toBe('completed');
    await w.t.db.query(`DELETE FROM reconciliation_runs WHERE id = ANY($1)`, [[held, waiting]]);
  });
});
