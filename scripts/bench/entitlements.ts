/**
 * `npm run bench:entitlements`: the entitlement verdict on this machine, not a test (issue 19's
 * benchmark). Starts the compiled service as two processes (APP_ROLE=api on a random port,
 * APP_ROLE=worker) against the local PostgreSQL and Redis (a fresh database billing_bench_entitlements,
 * Redis db 13, a fresh queue prefix), with the Stripe emulator in this process (nothing here should call
 * Stripe). BENCH_ACCOUNTS accounts (default twice BENCH_RATE) are created through the admin API, each
 * with a Pro monthly subscription through a first signed `customer.subscription.updated` event. Then:
 * 1. verdict: `GET /v1/accounts/{id}/entitlements` as the owners of BENCH_READERS accounts (default 10),
 *    BENCH_CONNECTIONS (50) closed-loop connections for BENCH_SECONDS (10) after BENCH_WARMUP (3) s;
 *    requests/s, p50, p99. Targets: >= 3,000 verdicts/s, p99 < 50 ms.
 * 2. floor: a bare Fastify route in a child process (`entitlements.js --floor`) doing what the endpoint
 *    cannot avoid on a cache hit: the same JWT check (HS256 with jose, verified tokens remembered, as the
 *    service does), the same Redis MGET (the entry and its two generations) and the entry's JSON out, under
 *    the same load. Target: ours >= 0.5x the floor's requests/s.
 * 3. guard: @billing/guard's cached check in this process (BENCH_CHECKS, default 1,000,000, round robin
 *    over the readers' accounts, verdicts fetched once from the service). Target: >= 100,000 checks/s.
 * 4. propagation: signed `customer.subscription.updated` events at BENCH_RATE/s (200) for
 *    BENCH_PROP_SECONDS (10), round robin, each toggling `cancel_at_period_end` and adding a seat; for 1 in
 *    BENCH_SAMPLE (10): the time from sending it until the verdict (polled every BENCH_POLL_MS, 20 ms)
 *    shows its state and seat total (or more seats: a later event of the account applied). Target: p99 < 1 s.
 * Bounded in time; loopback only. `--help` prints the knobs.
 */
import { spawn } from 'node:child_process';
import type { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { BillingGuard } from '@billing/guard';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { cpuMeter, cpuPerOperation, cpuSeconds, percentile, stop } from '../lib/bench-kit.js';
import {
  call,
  offerEvents,
  startSubscriptionsBench,
  type BenchAccount,
} from '../lib/bench-subscription-events.js';
import { exitWithHelpIfAsked } from '../lib/help.js';

exitWithHelpIfAsked(`
Usage: npm run bench:entitlements  (builds, then node dist/scripts/bench/entitlements.js)

Issue 19's benchmark (not a test): GET /v1/accounts/{id}/entitlements at 50 connections against a floor
(a bare Fastify route with the same JWT check and the same Redis read), @billing/guard's cached check in
process, and webhook -> verdict propagation at 200 events/s. Targets: >= 0.5x the floor, >= 3,000
verdicts/s, p99 < 50 ms; >= 100,000 checks/s; propagation p99 < 1 s.

Environment:
  BENCH_DATABASE_URL  [postgres://postgres@127.0.0.1:5432/billing_bench_entitlements] (dropped and recreated)
  BENCH_REDIS_URL     [redis://127.0.0.1:6379/13]
  BENCH_CONNECTIONS   [50] closed-loop connections of the verdict and floor phases
  BENCH_SECONDS       [10] measured seconds of the verdict and floor phases
  BENCH_WARMUP        [3] seconds of the same load before each, not counted
  BENCH_READERS       [10] accounts whose owners read their verdicts
  BENCH_CHECKS        [1000000] cached checks of the guard in process
  BENCH_RATE          [200] events/s offered in the propagation phase (open loop)
  BENCH_PROP_SECONDS  [10] seconds of events
  BENCH_ACCOUNTS      [2 x BENCH_RATE] accounts, each with a subscription
  BENCH_SAMPLE        [10] 1 event in this many is followed until the verdict shows it
  BENCH_POLL_MS       [20] the poll interval of that
  BENCH_NODE_ARGS     extra node flags for the api and worker (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
  BENCH_PHASES        [verdict,guard,propagation] the phases to run (e.g. verdict: the endpoint and floor only)

Phase 1 also prints the CPU per request: the api, the worker, the bench database's PostgreSQL backends,
Redis (whole: shared) and the bench process (the clients); for the floor, its process instead of the api.
`);

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_bench_entitlements';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const PROP_SECONDS = Number(process.env.BENCH_PROP_SECONDS ?? 10);
const ACCOUNTS = Math.max(1, Number(process.env.BENCH_ACCOUNTS ?? 2 * RATE));
const READERS = Math.max(1, Math.min(ACCOUNTS, Number(process.env.BENCH_READERS ?? 10)));
const CHECKS = Number(process.env.BENCH_CHECKS ?? 1_000_000);
const SAMPLE = Math.max(1, Number(process.env.BENCH_SAMPLE ?? 10));
const POLL_MS = Math.max(1, Number(process.env.BENCH_POLL_MS ?? 20));
const PHASES = new Set(
  (process.env.BENCH_PHASES ?? 'verdict,guard,propagation').split(',').map((p) => p.trim()),
);

const TARGET_RATIO = 0.5;
const TARGET_RATE = 3000;
const TARGET_P99_MS = 50;
const TARGET_CHECKS = 100_000;
const TARGET_PROPAGATION_P99_MS = 1000;
const VISIBLE_DEADLINE_MS = 30_000;
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
const WEBHOOK_SECRET = 'whsec_bench_entitlements_0123456789';

const line = (s: string): boolean => process.stdout.write(`${s}\n`);

// ---------------------------------------------------------------------------------------------------
// The floor (child process: `entitlements.js --floor`).
// ---------------------------------------------------------------------------------------------------
async function runFloor(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const redis = new Redis(REDIS_URL);
  const secret = new TextEncoder().encode(JWT_SECRET);
  // As the service's TokenVerifier: a token verified once is remembered until its exp or a minute.
  const verified = new Map<string, { accountId: unknown; until: number }>();
  const app = Fastify();
  app.get<{ Params: { id: string } }>('/v1/accounts/:id/entitlements', async (req, reply) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    let known = verified.get(token);
    if (!known || known.until < Date.now()) {
      try {
        const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
        known = { accountId: payload.account_id, until: Date.now() + 60_000 };
        verified.set(token, known);
      } catch {
        return reply.code(401).send({ error: { code: 'unauthenticated' } });
      }
    }
    if (known.accountId !== req.params.id) return reply.code(404).send({ error: { code: 'not_found' } });
    const [global, account, raw] = await redis.mget(
      'entitlements:gen:global',
      `entitlements:gen:${req.params.id}`,
      `entitlements:verdict:${req.params.id}`,
    );
    if (!raw) return reply.code(404).send({ error: { code: 'not_found' } });
    const entry = JSON.parse(raw) as { g: string; a: string; etag: string; verdict: unknown };
    if (entry.g !== (global ?? '0') || entry.a !== (account ?? '0')) return reply.code(409).send({});
    return reply.header('etag', entry.etag).send(entry.verdict);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  line(`floor listening on ${typeof address === 'object' && address ? address.port : 0}`);
  process.on('SIGTERM', () => {
    void app.close().finally(() => void redis.quit().finally(() => process.exit(0)));
  });
}

// ---------------------------------------------------------------------------------------------------
// The bench.
// ---------------------------------------------------------------------------------------------------

interface LoopResult {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  count: number;
}

/** `connections` closed-loop clients for `seconds`; each `request` resolves true for a good answer. */
async function closedLoop(
  connections: number,
  seconds: number,
  request: (i: number) => Promise<boolean>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const ok = await request(next++).catch(() => false);
        if (!ok) errors++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    count: latencies.length,
  };
}

const describe = (r: LoopResult): string =>
  `${r.rate.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.errors} errors of ${r.count}`;

async function bench(): Promise<void> {
  // The bench's own Redis db: verdicts and generations of an earlier run must not count in this one.
  const flush = new Redis(REDIS_URL);
  await flush.flushdb();
  await flush.quit();
  const world = await startSubscriptionsBench({
    databaseUrl: DATABASE_URL,
    redisUrl: REDIS_URL,
    accounts: ACCOUNTS,
    name: 'ent',
    jwtSecret: JWT_SECRET,
    webhookSecret: WEBHOOK_SECRET,
  });
  const { base, accounts, admin, agent, drain } = world;
  let floor: ReturnType<typeof spawn> | undefined;
  const verdicts: string[] = [];
  try {
    const readAgent = agent(CONNECTIONS);
    const readers = accounts.slice(0, READERS);
    /** The verdict as the owner sees it: `state/seat total`, or null when not answered 200. */
    const shown = async (account: BenchAccount, via: Agent): Promise<string | null> => {
      const res = await call(via, base, 'GET', `/v1/accounts/${account.id}/entitlements`, {
        authorization: account.authorization,
      });
      if (res.status !== 200) return null;
      const v = JSON.parse(res.body) as { state: string; limits: { seats: { total: number } } };
      return `${v.state}/${v.limits.seats.total}`;
    };
    const firstShown = await shown(accounts[0] as BenchAccount, readAgent);
    if (firstShown !== 'active/5') throw new Error(`the verdict shows ${firstShown}, not active/5`);

    line(
      `bench:entitlements against ${base.origin} (api + worker processes), Stripe emulator in this process`,
    );
    line(
      `machine: ${(await import('node:os')).cpus().length} cores, shared; loopback only; ${accounts.length} accounts with an active Pro subscription, ${READERS} readers\n`,
    );

    // 1. Our verdict endpoint.
    const ours = (i: number) => {
      const account = readers[i % readers.length] as BenchAccount;
      return call(readAgent, base, 'GET', `/v1/accounts/${account.id}/entitlements`, {
        authorization: account.authorization,
      }).then((r) => r.status === 200);
    };
    if (WARMUP > 0) await closedLoop(CONNECTIONS, WARMUP, ours);
    const processes = { api: world.api.child.pid, worker: world.worker.child.pid };
    const cpu = await cpuMeter(DATABASE_URL, REDIS_URL, () => processes);
    const oursBefore = await cpu();
    const endpoint = await closedLoop(CONNECTIONS, SECONDS, ours);
    const oursAfter = await cpu();

    // 2. The floor, on the entries our endpoint just cached (they live 60 s: primed again first).
    floor = spawn(process.execPath, [process.argv[1] ?? 'dist/scripts/bench/entitlements.js', '--floor'], {
      env: { ...process.env, BENCH_REDIS_URL: REDIS_URL },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const floorPort = await new Promise<number>((resolve, reject) => {
      let out = '';
      floor?.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /floor listening on (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      floor?.on('exit', (code) => reject(new Error(`the floor exited with ${code}: ${out}`)));
    });
    const floorBase = new URL(`http://127.0.0.1:${floorPort}`);
    const floorAgent = agent(CONNECTIONS);
    await Promise.all(readers.map((account) => shown(account, readAgent)));
    const bare = (i: number) => {
      const account = readers[i % readers.length] as BenchAccount;
      return call(floorAgent, floorBase, 'GET', `/v1/accounts/${account.id}/entitlements`, {
        authorization: account.authorization,
      }).then((r) => r.status === 200);
    };
    if (WARMUP > 0) await closedLoop(CONNECTIONS, WARMUP, bare);
    const floorPid = floor.pid;
    const floorBefore = { ...(await cpu()), api: cpuSeconds(floorPid) };
    const floorResult = await closedLoop(CONNECTIONS, SECONDS, bare);
    const floorAfter = { ...(await cpu()), api: cpuSeconds(floorPid) };
    cpu.close();
    await stop(floor);
    floor = undefined;

    const ratio = endpoint.rate / Math.max(floorResult.rate, 1);
    const met1 =
      endpoint.errors === 0 &&
      ratio >= TARGET_RATIO &&
      endpoint.rate >= TARGET_RATE &&
      endpoint.p99 < TARGET_P99_MS;
    line(`1. verdict endpoint, ${CONNECTIONS} connections, ${SECONDS} s`);
    line(`  ours         ${describe(endpoint)}`);
    line(`  floor        ${describe(floorResult)}`);
    line(`  CPU ms per request, ours:  ${cpuPerOperation(oursBefore, oursAfter, endpoint.count)}`);
    line(
      `  CPU ms per request, floor: ${cpuPerOperation(floorBefore, floorAfter, floorResult.count)} (api = the floor's process)`,
    );
    line(
      `  target       >= ${TARGET_RATIO}x floor (${ratio.toFixed(2)}x), >= ${TARGET_RATE}/s, p99 < ${TARGET_P99_MS} ms: ${met1 ? 'met' : 'NOT met'}`,
    );
    verdicts.push(`verdict endpoint: ${met1 ? 'met' : 'NOT met'}`);

    // 3. The guard's cached check, in this process.
    if (PHASES.has('guard')) await guardPhase();
    // 4. Propagation: webhook -> verdict changed.
    if (PHASES.has('propagation')) await propagationPhase();
    line(`\n${verdicts.join('; ')}`);

    async function guardPhase(): Promise<void> {
      const guard = new BillingGuard({
        baseUrl: base.origin,
        token: admin.replace('Bearer ', ''),
        ttlMs: 600_000,
      });
      for (const account of readers) {
        if (!(await guard.verdict(account.id))) throw new Error(`the guard got no verdict for ${account.id}`);
      }
      const ids = readers.map((a) => a.id);
      let refusals = 0;
      const t0 = performance.now();
      for (let i = 0; i < CHECKS; i++) {
        const decision = await guard.check(ids[i % ids.length], { method: i % 2 ? 'GET' : 'POST' });
        if (!decision.allowed) refusals++;
      }
      const checksPerSecond = CHECKS / ((performance.now() - t0) / 1000);
      const met2 = checksPerSecond >= TARGET_CHECKS && refusals === 0;
      line(`\n2. @billing/guard cached check, in process`);
      line(
        `  checks       ${CHECKS} in ${((performance.now() - t0) / 1000).toFixed(2)} s: ${checksPerSecond.toFixed(0)}/s`,
      );
      line(`  target       >= ${TARGET_CHECKS}/s: ${met2 ? 'met' : 'NOT met'}`);
      verdicts.push(`guard check: ${met2 ? 'met' : 'NOT met'}`);
    }

    async function propagationPhase(): Promise<void> {
      const pollAgent = agent(40);
      const {
        visible,
        refused,
        total,
        offeredSeconds: offered,
        polls,
      } = await offerEvents(world, {
        rate: RATE,
        seconds: PROP_SECONDS,
        sample: SAMPLE,
        pollMs: POLL_MS,
        deadlineMs: VISIBLE_DEADLINE_MS,
        backOffAfterMs: TARGET_PROPAGATION_P99_MS,
        // The verdict's state and seat total (Pro includes 5).
        expected: (account) => `${account.cancel ? 'canceled_pending' : 'active'}/${5 + account.seats}`,
        shown: (account) => shown(account, pollAgent),
      });
      const drained = await drain();
      const seen = visible.filter((v): v is number => v !== null).sort((a, b) => a - b);
      const p99 = percentile(seen, 99);
      const met3 =
        refused === 0 && drained && seen.length === visible.length && p99 < TARGET_PROPAGATION_P99_MS;
      line(`\n3. propagation: webhook -> verdict changed, ${RATE} events/s`);
      line(
        `  events       ${total} offered in ${offered.toFixed(1)} s (${(total / offered).toFixed(0)}/s), ${refused} refused; inbox ${drained ? 'drained' : 'NOT drained'}`,
      );
      line(
        `  to verdict   (1 in ${SAMPLE}, ${seen.length}, polled every ${POLL_MS} ms, ${polls} GETs): p50 ${percentile(seen, 50).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${(seen[seen.length - 1] ?? 0).toFixed(0)} ms${visible.length > seen.length ? `; ${visible.length - seen.length} NOT seen` : ''}`,
      );
      line(`  target       p99 < ${TARGET_PROPAGATION_P99_MS} ms: ${met3 ? 'met' : 'NOT met'}`);
      verdicts.push(`propagation: ${met3 ? 'met' : 'NOT met'}`);
    }
  } finally {
    if (floor) await stop(floor);
    await world.close();
  }
}

if (process.argv.includes('--floor')) {
  await runFloor();
} else {
  await bench();
  process.exit(0);
}
