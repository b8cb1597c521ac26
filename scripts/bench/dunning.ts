/**
 * `npm run bench:dunning`: issue 20's benchmark (not a test). BENCH_ACCOUNTS accounts (default 10,000)
 * whose renewals fail on the same test-clock day, through the real path on the app's side: the
 * compiled service as two processes (APP_ROLE=api, APP_ROLE=worker) against the local PostgreSQL and
 * Redis (a fresh database billing_bench_dunning, Redis db 13, a fresh queue prefix) and the Stripe
 * emulator in this process, which delivers its signed webhooks to the api.
 *
 * Setup (not measured): in the emulator, through its API, BENCH_ACCOUNTS customers on test clocks
 * (BENCH_PER_CLOCK customers each, default 250; the emulator's advance is linear in them), each
 * with a Pro monthly subscription paid by a Visa card, then the attach-then-fail card
 * (pm_card_chargeCustomerFail) as its default; Stripe's own retries off (retry_days 0, final status
 * past_due), as docs/dunning.md asks. On the app's side the accounts and their active subscriptions are
 * written in SQL (the bench owns its database): the webhook endpoint is enabled for
 * `invoice.payment_failed` and `test_helpers.test_clock.ready` only, so setup sends the app nothing.
 *
 * The services send their e-mails to an SMTP sink in this process (it accepts and counts them).
 *
 * 1. Day 0: every clock advances past the renewal (a month and an hour): each renewal fails at Stripe,
 *    whose `invoice.payment_failed` reaches the app; measured from the first advance until every case is
 *    open, its Day 0 step ran and its Day 0 e-mail (`payment_failed_1`) was sent. Target: under 2 minutes.
 * 2. Day 3: every clock advances three days: each clock's `test_clock.ready` queues its cases' Day 3
 *    step, which retries the invoice at Stripe (declined again); measured until every Day 3 step ran and
 *    its e-mail (`payment_failed_2`) was sent. Target: under 2 minutes.
 * Then: no duplicates (one case per invoice, one `dunning.step_ran` audit record per case and step,
 * every invoice attempted exactly twice at Stripe, two e-mails per case received), and the worker's
 * peak resident memory (VmHWM).
 * Bounded in time (every phase has a deadline); loopback traffic only. `--help` prints the knobs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import Stripe from 'stripe';
import { startEmulator } from '../../apps/stripe-emulator/src/server.js';
import {
  cpuMeter,
  cpuPerOperation,
  freePort,
  recreateDatabase,
  spawnService,
  stop,
  waitUntil,
  type CpuMeter,
  type RunningService,
  startSmtpSink,
} from '../lib/bench-kit.js';
import { exitWithHelpIfAsked } from '../lib/help.js';

exitWithHelpIfAsked(`
Usage: npm run bench:dunning  (builds, then node dist/scripts/bench/dunning.js)

Issue 20's benchmark (not a test): BENCH_ACCOUNTS renewals fail on one test-clock day; the time until
every dunning case is open with its Day 0 step run and e-mail sent (to an SMTP sink in the bench), then,
after the clocks advance three days, until every Day 3 retry ran and was e-mailed (target: each under
2 minutes); checks for duplicates; the worker's peak memory.
See docs/benchmarks.md. Environment (defaults in brackets):
  BENCH_DATABASE_URL  [postgres://postgres@127.0.0.1:5432/billing_bench_dunning] dropped and recreated
  BENCH_REDIS_URL     [redis://127.0.0.1:6379/13]
  BENCH_ACCOUNTS      [10000] accounts whose renewal fails
  BENCH_PER_CLOCK     [250] customers per Stripe test clock
  BENCH_SETUP_CONCURRENCY [32] emulator API calls in flight during setup
  BENCH_PHASE_DEADLINE_S  [600] seconds a phase may take before the bench gives up
  BENCH_NODE_ARGS     extra node flags for the service processes (e.g. --cpu-prof)
  -h, --help          this text
`);

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_bench_dunning';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
const ACCOUNTS = Math.max(1, Number(process.env.BENCH_ACCOUNTS ?? 10_000));
const PER_CLOCK = Math.max(1, Math.min(5000, Number(process.env.BENCH_PER_CLOCK ?? 250)));
const SETUP_CONCURRENCY = Math.max(1, Number(process.env.BENCH_SETUP_CONCURRENCY ?? 32));
const PHASE_DEADLINE_MS = 1000 * Number(process.env.BENCH_PHASE_DEADLINE_S ?? 600);
/** Issue 20's target, per step. */
const TARGET_MS = 120_000;
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
const WEBHOOK_SECRET = 'whsec_bench_dunning_0123456789';
const STRIPE_KEY = `sk_test_bench${randomUUID().replace(/-/g, '')}`;
const DAY = 86_400;
const HOUR = 3_600;
const START = Math.floor(Date.UTC(2031, 0, 15, 12) / 1000);
/** A month on: the renewal's draft at the period end, finalized and charged an hour later. */
const RENEWED = Math.floor(Date.UTC(2031, 1, 15, 13) / 1000) + 60;

const line = (s: string): boolean => process.stdout.write(`${s}\n`);

/** Runs `fn` over `items` with at most `concurrency` at once. */
async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/** Peak resident memory of a process in MiB (VmHWM), null where /proc is not available. */
function peakMemoryMiB(pid: number | undefined): number | null {
  try {
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : null;
  } catch {
    return null;
  }
}

interface Customer {
  accountId: string;
  customer: string;
  subscription: string;
  clock: string;
}

async function bench(): Promise<void> {
  await recreateDatabase(DATABASE_URL);
  const smtp = await startSmtpSink();
  const apiPort = await freePort();
  const emulator = await startEmulator({
    port: 0,
    delivery: {
      globalEndpoints: [
        {
          url: `http://127.0.0.1:${apiPort}/webhooks/stripe`,
          secret: WEBHOOK_SECRET,
          enabledEvents: ['invoice.payment_failed', 'test_helpers.test_clock.ready'],
        },
      ],
    },
  });
  const stripe = new Stripe(STRIPE_KEY, {
    ...emulator.stripeConfig(),
    maxNetworkRetries: 2,
    telemetry: false,
  });
  const env = {
    NODE_ENV: 'test',
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    DATABASE_URL,
    DB_MIGRATE: 'true',
    REDIS_URL,
    QUEUE_PREFIX: `bench-dunning-${randomUUID().slice(0, 8)}`,
    JWT_SECRET,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_IP_PER_MINUTE: '100000000',
    RATE_LIMIT_ACCOUNT_PER_MINUTE: '100000000',
    STRIPE_API_BASE: emulator.url,
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_WEBHOOK_SECRETS: WEBHOOK_SECRET,
    SMTP_URL: smtp.url,
  };
  let api: RunningService | undefined;
  let worker: RunningService | undefined;
  let cpu: CpuMeter | undefined;
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  try {
    api = await spawnService('api', env); // migrates the bench database
    worker = await spawnService('worker', { ...env, PORT: '0' });
    const processes = { api: api.child.pid, worker: worker.child.pid };
    cpu = await cpuMeter(DATABASE_URL, REDIS_URL, () => processes, { refreshMs: 500 });

    // Setup, in the emulator: Stripe's retries off, the clocks, the customers and their subscriptions.
    const settings = await fetch(`${emulator.url}/_emulator/billing/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        api_key: STRIPE_KEY,
        retry_days: '0',
        final_status: 'past_due',
      }).toString(),
    });
    if (settings.status !== 200) throw new Error(`emulator settings answered ${settings.status}`);
    const product = await stripe.products.create({ name: 'Pro' });
    const price = await stripe.prices.create({
      product: product.id,
      unit_amount: 2900,
      currency: 'usd',
      recurring: { interval: 'month' },
      lookup_key: 'pro_month_base',
    });
    const clocks = await pool(
      Array.from({ length: Math.ceil(ACCOUNTS / PER_CLOCK) }, (_, i) => i),
      4,
      async () => (await stripe.testHelpers.testClocks.create({ frozen_time: START })).id,
    );
    const setupStarted = performance.now();
    const customers = await pool(
      Array.from({ length: ACCOUNTS }, (_, i) => i),
      SETUP_CONCURRENCY,
      async (i): Promise<Customer> => {
        const clock = clocks[Math.floor(i / PER_CLOCK)] as string;
        const customer = await stripe.customers.create({ email: `d${i}@bench.test`, test_clock: clock });
        const visa = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
        await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: visa.id } });
        const sub = await stripe.subscriptions.create({
          customer: customer.id,
          items: [{ price: price.id }],
        });
        if (sub.status !== 'active') throw new Error(`subscription ${sub.id} is ${sub.status}`);
        const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
          customer: customer.id,
        });
        await stripe.customers.update(customer.id, {
          invoice_settings: { default_payment_method: failing.id },
        });
        return { accountId: randomUUID(), customer: customer.id, subscription: sub.id, clock };
      },
    );
    // The app's side of the same: accounts linked to their customers, active Pro subscriptions.
    for (let i = 0; i < customers.length; i += 1000) {
      const chunk = customers.slice(i, i + 1000);
      await db.query(
        `INSERT INTO accounts (id, name, billing_email, stripe_customer_id)
         SELECT id, 'Bench dunning', 'billing@bench.test', customer
           FROM unnest($1::uuid[], $2::text[]) AS t(id, customer)`,
        [chunk.map((c) => c.accountId), chunk.map((c) => c.customer)],
      );
      await db.query(
        `INSERT INTO subscriptions (id, account_id, stripe_subscription_id, stripe_customer_id, stripe_status,
           state, plan_id, billing_interval, seats, cancel_at_period_end, current_period_end,
           last_event_created, version, created_at, updated_at)
         SELECT gen_random_uuid(), account_id, sub, customer, 'active', 'active', 'pro', 'month', 0, false,
                to_timestamp($4), $5, 1, now(), now()
           FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(account_id, sub, customer)`,
        [
          chunk.map((c) => c.accountId),
          chunk.map((c) => c.subscription),
          chunk.map((c) => c.customer),
          RENEWED - HOUR - 60,
          START,
        ],
      );
    }
    line(
      `bench:dunning: ${ACCOUNTS} accounts on ${clocks.length} test clocks, set up in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`,
    );
    line(`machine: ${cpus().length} cores, shared with PostgreSQL, Redis and the emulator; loopback only\n`);

    const count = async (sql: string, params: unknown[] = []): Promise<number> =>
      Number((await db.query<{ n: number }>(sql, params)).rows[0]?.n ?? 0);
    const stepsDone = (step: string) =>
      count(`SELECT count(*)::int AS n FROM dunning_steps WHERE step_id = $1 AND status = 'done'`, [step]);
    const mailsSent = (template: string) =>
      count(`SELECT count(*)::int AS n FROM notifications WHERE template = $1 AND status = 'sent'`, [
        template,
      ]);
    const phase = async (
      name: string,
      target: number,
      advance: () => Promise<void>,
      done: () => Promise<boolean>,
    ): Promise<number> => {
      const before = await (cpu as CpuMeter)();
      const t0 = performance.now();
      await advance();
      const advanced = performance.now() - t0;
      const finished = await waitUntil(done, PHASE_DEADLINE_MS);
      const ms = performance.now() - t0;
      const after = await (cpu as CpuMeter)();
      line(
        `${name}: ${finished ? 'done' : 'NOT DONE (deadline)'} in ${(ms / 1000).toFixed(1)} s ` +
          `(the clocks advanced in ${(advanced / 1000).toFixed(1)} s) -> ${ms < TARGET_MS && finished ? 'PASS' : 'FAIL'} (target < ${TARGET_MS / 1000} s)`,
      );
      line(`  CPU ms per case: ${cpuPerOperation(before, after, target)}`);
      return ms;
    };

    // 1. Day 0: the renewals fail; every case opens, runs its Day 0 step and sends its e-mail.
    await phase(
      `Day 0: ${ACCOUNTS} cases open, Day 0 run and e-mailed`,
      ACCOUNTS,
      async () => {
        for (const clock of clocks)
          await stripe.testHelpers.testClocks.advance(clock, { frozen_time: RENEWED });
      },
      async () => (await stepsDone('day_0')) >= ACCOUNTS && (await mailsSent('payment_failed_1')) >= ACCOUNTS,
    );
    const day0 = Number(
      (await db.query<{ t: number }>(`SELECT extract(epoch FROM min(day0))::int AS t FROM dunning_cases`))
        .rows[0]?.t,
    );

    // 2. Day 3: the clocks advance three days; every case's Day 3 retry runs (declined again), e-mailed.
    await phase(
      `Day 3: ${ACCOUNTS} retries, e-mailed`,
      ACCOUNTS,
      async () => {
        for (const clock of clocks) {
          await stripe.testHelpers.testClocks.advance(clock, { frozen_time: day0 + 3 * DAY + 60 });
        }
      },
      async () => (await stepsDone('day_3')) >= ACCOUNTS && (await mailsSent('payment_failed_2')) >= ACCOUNTS,
    );

    // No duplicates: one case per invoice, one step record per case and step, two attempts per invoice.
    const cases = await count(`SELECT count(*)::int AS n FROM dunning_cases`);
    const invoices = await count(`SELECT count(DISTINCT stripe_invoice_id)::int AS n FROM dunning_cases`);
    const audited = await count(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'dunning.step_ran'`);
    const perStep = (
      await db.query<{ step: string; n: number }>(
        `SELECT after->>'step' AS step, count(*)::int AS n FROM audit_log
          WHERE action = 'dunning.step_ran' GROUP BY 1 ORDER BY 1`,
      )
    ).rows;
    const failedRetries = await count(
      `SELECT count(*)::int AS n FROM dunning_steps WHERE step_id = 'day_3' AND retry_outcome = 'failed'`,
    );
    const attempts = new Map<number, number>();
    const counts = await pool(customers, SETUP_CONCURRENCY, async (c) => {
      const latest = (await stripe.subscriptions.retrieve(c.subscription)).latest_invoice as string;
      return (await stripe.invoices.retrieve(latest)).attempt_count;
    });
    for (const n of counts) attempts.set(n, (attempts.get(n) ?? 0) + 1);
    const pastDue = await count(`SELECT count(*)::int AS n FROM subscriptions WHERE state = 'past_due'`);
    line(
      `\ncases ${cases} for ${invoices} invoices; dunning.step_ran audited ${audited} (${perStep
        .map((r) => `${r.step} ${r.n}`)
        .join(', ')}); Day 3 retries declined ${failedRetries}; subscriptions past_due ${pastDue}`,
    );
    line(
      `attempts per invoice at Stripe: ${[...attempts.entries()].map(([n, k]) => `${k} x ${n}`).join(', ')}`,
    );
    line(`e-mails received by the SMTP sink: ${smtp.received()} (expected ${2 * ACCOUNTS})`);
    const clean =
      smtp.received() === 2 * ACCOUNTS &&
      cases === ACCOUNTS &&
      invoices === ACCOUNTS &&
      audited === 2 * ACCOUNTS &&
      failedRetries === ACCOUNTS &&
      attempts.get(2) === ACCOUNTS;
    line(`duplicates: ${clean ? 'none (PASS)' : 'FOUND OR MISSING (FAIL)'}`);
    line(
      `worker peak memory (VmHWM): ${peakMemoryMiB(worker.child.pid) ?? '?'} MiB; api ${peakMemoryMiB(api.child.pid) ?? '?'} MiB`,
    );
  } finally {
    cpu?.close();
    await db.end().catch(() => undefined);
    if (worker) await stop(worker.child);
    if (api) await stop(api.child);
    await emulator.close();
    await smtp.close();
  }
}

bench().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:dunning failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
