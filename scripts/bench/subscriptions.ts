/**
 * `npm run bench:subscriptions`: the subscription mirror and its read on this machine, not a test
 * (issue 17's benchmark). Starts the compiled service as two processes (APP_ROLE=api on a random port,
 * APP_ROLE=worker) against the local PostgreSQL and Redis (a fresh database billing_bench_subscriptions,
 * Redis db 12, a fresh queue prefix) and the Stripe emulator in this process (STRIPE_API_BASE: nothing
 * the service does here should call Stripe, but were it to re-read a subscription, the call stays on
 * loopback). BENCH_ACCOUNTS accounts (default twice BENCH_RATE) are created through the admin API and
 * linked to a Stripe customer each (accounts.stripe_customer_id, in SQL: the bench owns its database);
 * each gets a Pro monthly subscription through a first signed `customer.subscription.updated` event
 * (status active, the period on the items, API 2026-10-28), and every one must be applied. Then:
 * 1. webhook to read: signed `customer.subscription.updated` events, open loop at BENCH_RATE/s (default
 *    200) for BENCH_SECONDS (default 30), round robin over the accounts, each toggling
 *    `cancel_at_period_end` (the state moves between active and canceled_pending) and adding one seat
 *    (the quantity of a `pro_month_seat` item), so that what GET shows, state and purchased seats,
 *    is never the same twice for a subscription (an older event of the same toggle cannot pass for
 *    a newer one), with a `created` later than the subscription's last one (so the ordering rule
 *    applies it; never the same second, which would re-read from Stripe). For every event: the time
 *    from sending it to its inbox row's `processed_at` (set in the worker's transaction). For 1 in
 *    BENCH_SAMPLE (default 20): the time from sending it until `GET /v1/subscription`, polled every
 *    BENCH_POLL_MS (default 20) ms with the owner's token, shows its state and seats, or more seats (a
 *    later event of the subscription already applied: under a backlog the view may move on between
 *    two polls); target p99 < 1 s on that one. Past the target's second a poll waits a quarter of the time elapsed instead (the
 *    polls are GETs on the same api: a backlog must not multiply them); their count is printed.
 *    Every event must end `applied`.
 * 2. read: `GET /v1/subscription` as the owners of BENCH_READERS accounts (default 10), 50 closed-loop
 *    connections (BENCH_CONNECTIONS) for BENCH_SECONDS; req/s, p50, p99, errors; target p99 < 50 ms.
 * Each phase is preceded by BENCH_WARMUP seconds (default 5) of the same load, not counted. The CPU per
 * operation (Linux /proc) of the api, the worker, the PostgreSQL backends of the bench database, the
 * Redis server (shared with other users of the machine: counted whole) and this process (clients,
 * signing, emulator); for phase 1 up to when every event is processed. The backends are read every
 * 500 ms as well, so that one the pools open and close within a phase is counted.
 * BENCH_TIMELINE=1 also prints phase 1 second by second (by the second each event was sent).
 * Bounded in time (every phase has a deadline); loopback traffic only. `--help` prints the knobs.
 */
import type { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { cpuMeter, cpuPerOperation, percentile, type CpuMeter } from '../lib/bench-kit.js';
import {
  call,
  offerEvents,
  startSubscriptionsBench,
  type BenchAccount,
} from '../lib/bench-subscription-events.js';
import { exitWithHelpIfAsked } from '../lib/help.js';

exitWithHelpIfAsked(`
Usage: npm run bench:subscriptions  (builds, then node dist/scripts/bench/subscriptions.js)

Issue 17's benchmark (not a test): a customer.subscription.updated webhook reflected in GET
/v1/subscription (p99 < 1 s at 200 events/s), and GET /v1/subscription at 50 connections (p99 < 50 ms),
with the CPU per operation of the api, the worker, the bench database's PostgreSQL backends and Redis;
prints each target's verdict. See docs/benchmarks.md. Environment (defaults in brackets):
  BENCH_DATABASE_URL  [postgres://postgres@127.0.0.1:5432/billing_bench_subscriptions] dropped and recreated
  BENCH_REDIS_URL     [redis://127.0.0.1:6379/12]
  BENCH_RATE          [200] events/s offered (open loop)
  BENCH_SECONDS       [30] seconds of each measured phase
  BENCH_WARMUP        [5] seconds of the same load before each phase, not counted
  BENCH_ACCOUNTS      [2 x BENCH_RATE] subscriptions the events go round (one event every ACCOUNTS/RATE s each)
  BENCH_SAMPLE        [20] 1 event in SAMPLE is confirmed by polling GET /v1/subscription
  BENCH_POLL_MS       [20] the poll interval of that confirmation (past 1 s: a quarter of the time elapsed)
  BENCH_CONNECTIONS   [50] closed-loop connections of the read phase
  BENCH_READERS       [10] accounts whose owners read in the read phase
  BENCH_NODE_ARGS     extra node flags for the service processes (e.g. --cpu-prof)
  BENCH_TIMELINE=1    also prints phase 1 second by second (events sent, lag to processed_at p50/p99/max)
  -h, --help          this text
`);

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_bench_subscriptions';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/12';
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const ACCOUNTS = Math.max(1, Number(process.env.BENCH_ACCOUNTS ?? 2 * RATE));
const SAMPLE = Math.max(1, Number(process.env.BENCH_SAMPLE ?? 20));
const POLL_MS = Math.max(1, Number(process.env.BENCH_POLL_MS ?? 20));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const READERS = Math.max(1, Math.min(ACCOUNTS, Number(process.env.BENCH_READERS ?? 10)));
/** BENCH_TIMELINE=1: phase 1 second by second, by the second each event was sent (a stall shows there). */
const TIMELINE = process.env.BENCH_TIMELINE === '1';
/** Issue 17's targets. */
const TARGET_VISIBLE_P99_MS = 1000;
const TARGET_READ_P99_MS = 50;
/** How long a sampled event may take to show in GET /v1/subscription before it counts as not seen. */
const VISIBLE_DEADLINE_MS = 30_000;
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
const WEBHOOK_SECRET = 'whsec_bench_subscriptions_0123456789';

const line = (s: string): boolean => process.stdout.write(`${s}\n`);

async function bench(): Promise<void> {
  const world = await startSubscriptionsBench({
    databaseUrl: DATABASE_URL,
    redisUrl: REDIS_URL,
    accounts: ACCOUNTS,
    name: 'subs',
    jwtSecret: JWT_SECRET,
    webhookSecret: WEBHOOK_SECRET,
  });
  const { base, db, accounts, agent, drain } = world;
  let cpu: CpuMeter | undefined;
  try {
    const processes = { api: world.api.child.pid, worker: world.worker.child.pid };
    cpu = await cpuMeter(DATABASE_URL, REDIS_URL, () => processes, { refreshMs: 500 });
    const outcomes = async (ids: string[]) =>
      (
        await db.query<{ id: string; status: string; outcome: string | null; processed_ms: number | null }>(
          `SELECT id, status, outcome, extract(epoch FROM processed_at) * 1000 AS processed_ms
             FROM webhook_events WHERE id = ANY($1)`,
          [ids],
        )
      ).rows;
    /** What GET /v1/subscription shows the owner, as `state/purchased seats` (null: not answered 200). */
    const shown = async (account: BenchAccount, readAgent: Agent): Promise<string | null> => {
      const res = await call(readAgent, base, 'GET', '/v1/subscription', {
        authorization: account.authorization,
      });
      if (res.status !== 200) return null;
      const view = JSON.parse(res.body) as { state: string; seats: { purchased: number } };
      return `${view.state}/${view.seats.purchased}`;
    };
    const expectedOf = (account: BenchAccount) =>
      `${account.cancel ? 'canceled_pending' : 'active'}/${account.seats}`;
    const pollAgent = agent(20);
    const firstShown = await shown(accounts[0] as BenchAccount, pollAgent);
    if (firstShown !== 'active/0') throw new Error(`GET /v1/subscription shows ${firstShown}, not active/0`);

    line(
      `bench:subscriptions against ${base.origin} (api + worker processes), Stripe emulator in this process`,
    );
    line(
      `machine: ${(await import('node:os')).cpus().length} cores, shared; loopback only; ${accounts.length} accounts, each with an active Pro monthly subscription\n`,
    );

    // 1. webhook to read, open loop.
    const offer = (seconds: number) =>
      offerEvents(world, {
        rate: RATE,
        seconds,
        sample: SAMPLE,
        pollMs: POLL_MS,
        deadlineMs: VISIBLE_DEADLINE_MS,
        backOffAfterMs: TARGET_VISIBLE_P99_MS,
        expected: expectedOf,
        shown: (account) => shown(account, pollAgent),
      });

    if (WARMUP > 0) {
      const warm = await offer(WARMUP);
      await drain();
      line(`warm-up: ${warm.total} events in ${WARMUP} s, not counted`);
    }
    const cpu1 = await cpu();
    const t1 = performance.now();
    const phase1 = await offer(SECONDS);
    const drained = await drain();
    const drainSeconds = (performance.now() - t1) / 1000 - phase1.offeredSeconds;
    const cpu1After = await cpu();
    const rows = await outcomes(phase1.sent.map((s) => s.id));
    const sentAt = new Map(phase1.sent.map((s) => [s.id, s.sentAt]));
    const lags = rows
      .filter((r) => r.processed_ms !== null)
      .map((r) => Number(r.processed_ms) - (sentAt.get(r.id) ?? 0))
      .sort((a, b) => a - b);
    const byOutcome = new Map<string, number>();
    for (const r of rows) {
      const key = r.outcome ?? r.status;
      byOutcome.set(key, (byOutcome.get(key) ?? 0) + 1);
    }
    const applied = byOutcome.get('applied') ?? 0;
    const seen = phase1.visible.filter((v): v is number => v !== null).sort((a, b) => a - b);
    const unseen = phase1.visible.length - seen.length;
    const visibleP99 = percentile(seen, 99);
    const met1 =
      drained &&
      unseen === 0 &&
      phase1.refused === 0 &&
      applied === phase1.total &&
      visibleP99 < TARGET_VISIBLE_P99_MS;
    line(
      [
        `webhook -> GET /v1/subscription, open loop at ${RATE}/s for ${SECONDS} s over ${accounts.length} subscriptions`,
        `  events       ${phase1.total} offered in ${phase1.offeredSeconds.toFixed(1)} s (${(phase1.total / phase1.offeredSeconds).toFixed(0)}/s), ${phase1.refused} refused; inbox drained ${Math.max(0, drainSeconds).toFixed(1)} s after the last was sent${drained ? '' : ' — DEADLINE HIT'}`,
        `  outcomes     ${[...byOutcome].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}${rows.length < phase1.sent.length ? `, ${phase1.sent.length - rows.length} not in the inbox` : ''}`,
        `  to processed_at (every event, ${lags.length}):   p50 ${percentile(lags, 50).toFixed(0)} ms, p99 ${percentile(lags, 99).toFixed(0)} ms, max ${(lags[lags.length - 1] ?? 0).toFixed(0)} ms`,
        `  to visible in GET (1 in ${SAMPLE}, ${seen.length}, polled every ${POLL_MS} ms, ${phase1.polls} GETs): p50 ${percentile(seen, 50).toFixed(0)} ms, p99 ${visibleP99.toFixed(0)} ms, max ${(seen[seen.length - 1] ?? 0).toFixed(0)} ms${unseen > 0 ? `; ${unseen} NOT seen within ${VISIBLE_DEADLINE_MS / 1000} s` : ''}`,
        `  CPU ms per event: ${cpuPerOperation(cpu1, cpu1After, phase1.total)} (bench = clients, signing, the polls of the sample, emulator)`,
        `  target       every event applied and visible in GET /v1/subscription with p99 < ${TARGET_VISIBLE_P99_MS} ms (${visibleP99.toFixed(0)} ms): ${met1 ? 'met' : 'NOT met'}`,
        '',
      ].join('\n'),
    );
    if (TIMELINE) {
      const first = Math.min(...phase1.sent.map((e) => e.sentAt));
      const seconds = new Map<number, number[]>();
      for (const r of rows) {
        if (r.processed_ms === null) continue;
        const sent = sentAt.get(r.id) ?? 0;
        const second = Math.floor((sent - first) / 1000);
        const list = seconds.get(second) ?? [];
        list.push(Number(r.processed_ms) - sent);
        seconds.set(second, list);
      }
      line('timeline (second of phase 1 in which events were sent: lag to processed_at):');
      for (const [second, mss] of [...seconds].sort((a, b) => a[0] - b[0])) {
        mss.sort((a, b) => a - b);
        line(
          `  ${String(second).padStart(3)} s  ${String(mss.length).padStart(4)} events  p50 ${percentile(mss, 50).toFixed(0).padStart(6)} ms  p99 ${percentile(mss, 99).toFixed(0).padStart(6)} ms  max ${(mss[mss.length - 1] ?? 0).toFixed(0).padStart(6)} ms`,
        );
      }
      line('');
    }

    // 2. GET /v1/subscription, closed loop.
    const readers = accounts.slice(0, READERS);
    const readAgent = agent(CONNECTIONS);
    const expectedViews = new Map(readers.map((r) => [r.id, expectedOf(r)]));
    const read = async (seconds: number) => {
      const latencies: number[] = [];
      const errors = new Map<string, number>();
      const started = performance.now();
      const deadline = started + seconds * 1000;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async (_, c) => {
          const reader = readers[c % readers.length] as BenchAccount;
          while (performance.now() < deadline) {
            const t0 = performance.now();
            let outcome: string;
            try {
              const res = await call(readAgent, base, 'GET', '/v1/subscription', {
                authorization: reader.authorization,
              });
              const view =
                res.status === 200
                  ? (JSON.parse(res.body) as { state: string; seats: { purchased: number } })
                  : null;
              outcome = !view
                ? String(res.status)
                : `${view.state}/${view.seats.purchased}` === expectedViews.get(reader.id)
                  ? 'ok'
                  : 'wrong_view';
            } catch (error) {
              outcome = `network_error(${(error as { code?: string }).code ?? 'unknown'})`;
            }
            latencies.push(performance.now() - t0);
            if (outcome !== 'ok') errors.set(outcome, (errors.get(outcome) ?? 0) + 1);
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      return { latencies, errors, seconds: (performance.now() - started) / 1000 };
    };
    if (WARMUP > 0) {
      const warm = await read(WARMUP);
      line(`warm-up: ${warm.latencies.length} reads in ${WARMUP} s, not counted`);
    }
    const cpu2 = await cpu();
    const phase2 = await read(SECONDS);
    const cpu2After = await cpu();
    const readP99 = percentile(phase2.latencies, 99);
    const readErrors = [...phase2.errors.values()].reduce((sum, n) => sum + n, 0);
    const met2 = readErrors === 0 && readP99 < TARGET_READ_P99_MS;
    line(
      [
        `GET /v1/subscription, ${CONNECTIONS} connections (closed loop) for ${SECONDS} s, owners of ${readers.length} accounts`,
        `  requests     ${phase2.latencies.length} (${(phase2.latencies.length / phase2.seconds).toFixed(0)}/s)`,
        `  latency      p50 ${percentile(phase2.latencies, 50).toFixed(1)} ms, p99 ${readP99.toFixed(1)} ms, max ${(phase2.latencies[phase2.latencies.length - 1] ?? 0).toFixed(1)} ms`,
        `  errors       ${[...phase2.errors].map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'}`,
        `  CPU ms per request: ${cpuPerOperation(cpu2, cpu2After, phase2.latencies.length)} (bench = clients)`,
        `  target       no errors, p99 < ${TARGET_READ_P99_MS} ms (${readP99.toFixed(1)} ms): ${met2 ? 'met' : 'NOT met'}`,
      ].join('\n'),
    );
  } finally {
    cpu?.close();
    await world.close();
  }
}

await bench();
