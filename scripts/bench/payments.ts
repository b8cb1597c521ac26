/**
 * `node dist/scripts/bench/payments.js` (after `npm run build`): one-time payments on this machine, not a
 * test. Starts the compiled service as two processes (APP_ROLE=api, APP_ROLE=worker) against the local
 * PostgreSQL and Redis (database billing_bench_payments, Redis db 4, a fresh queue prefix) and the Stripe
 * emulator in this process (the time the api waited on it comes from the api's `Server-Timing: stripe`).
 * Then BENCH_CLIENTS closed-loop clients (default 100), each paying in its own account by default
 * (BENCH_ACCOUNTS=1 puts them all in one, where receipt numbering serialises them: gap-free numbers per
 * account are allocated in the payment's transaction), create payments with distinct Idempotency-Keys
 * for BENCH_SECONDS (default 30), after BENCH_WARMUP seconds (default 10) of the same load that are not
 * counted (the service's first seconds compile code and fill pools and caches; its backlog drains before
 * the measured load starts), and it prints throughput, p50/p99, errors, the share of request time
 * spent waiting on the emulator, our own overhead per request (its latency minus the Stripe time the
 * api reports in `Server-Timing`), and the CPU each part used per payment (Linux /proc: the api, the
 * worker, the PostgreSQL backends of the bench database and the Redis server; this process runs the
 * emulator, the clients and an SMTP server that takes the receipt e-mails). The emulator's webhook
 * endpoint is enabled for the events the README tells operators to enable (STRIPE_ENDPOINT_EVENTS). Targets (issue 5): no errors, p99 < 500 ms at 100 clients, own overhead p99 < 100 ms.
 * By default it measures two scenarios on the same processes (see SCENARIOS): Stripe answering at once,
 * for the p99, and Stripe answering in 600 ± 300 ms, for our own overhead; each prints its verdicts.
 * BENCH_STRIPE_LATENCY_MS=n instead measures one scenario, each Stripe call of the load n ms slower, as
 * a real Stripe is (BENCH_STRIPE_LATENCY_SPREAD_MS=m: by n ± m ms, drawn per call).
 * BENCH_RATE=n runs an open loop instead: a payment every 1/n s over at most BENCH_CLIENTS connections,
 * latency counted from when each was due (so a queue at the client counts too).
 * Bounded in time; loopback traffic only.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { STRIPE_ENDPOINT_EVENTS } from '../../apps/billing-api/src/modules/webhooks/contracts/stripe-endpoint-events.js';
import { startEmulator } from '../../apps/stripe-emulator/src/server.js';
import {
  benchToken,
  cpuMeter,
  freePort,
  percentile,
  recreateDatabase,
  spawnService,
  startSmtpSink,
} from '../lib/bench-kit.js';
import { exitWithHelpIfAsked } from '../lib/help.js';

exitWithHelpIfAsked(`
Usage: npm run bench:payments  (builds, then node dist/scripts/bench/payments.js)

One-time payments end to end on this machine (not a test): api and worker processes, the Stripe
emulator, receipts and their e-mails; prints each target's verdict. See docs/benchmarks.md.
  BENCH_CLIENTS                   closed-loop clients (default 100)
  BENCH_RATE                      payments per second, open loop (default 0: closed loop)
  BENCH_SECONDS                   measured seconds per scenario (default 30)
  BENCH_STRIPE_LATENCY_MS         one scenario with this Stripe latency ...
  BENCH_STRIPE_LATENCY_SPREAD_MS  ... plus or minus this
  BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_ACCOUNTS, BENCH_WARMUP, BENCH_NODE_ARGS, BENCH_TIMELINE
  -h, --help                      this text
`);
const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_bench_payments';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/4';
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
/** BENCH_RATE=n: an open loop instead, one payment every 1/n s (up to BENCH_CLIENTS accounts), however slow the answers. */
const RATE = Number(process.env.BENCH_RATE ?? 0);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
/**
 * BENCH_STRIPE_LATENCY_MS=n: every Stripe call of the load takes n ms more at the emulator (its latency
 * switch; a wait, no CPU), as a real Stripe would: a PaymentIntent confirmed with a card typically
 * takes a few hundred ms. Default 0: the emulator answers as fast as it can.
 */
const STRIPE_LATENCY_MS = Number(process.env.BENCH_STRIPE_LATENCY_MS ?? 0);
/**
 * BENCH_STRIPE_LATENCY_SPREAD_MS=n: each call's added latency is drawn evenly from
 * BENCH_STRIPE_LATENCY_MS ± n. A constant latency makes the closed-loop clients move in lockstep (all
 * answers come back at once and queue together); real answers vary.
 */
const STRIPE_LATENCY_SPREAD_MS = Number(process.env.BENCH_STRIPE_LATENCY_SPREAD_MS ?? 0);

/** Issue 5's targets: p99 under 500 ms at 100 clients (seed 002), own overhead p99 under 100 ms (seed 001). */
const TARGET_P99_MS = 500;
const TARGET_OVERHEAD_P99_MS = 100;
type Target = 'errors' | 'p99' | 'overhead';
interface Scenario {
  latencyMs: number;
  spreadMs: number;
  targets: Target[];
}
/**
 * Stripe's own time in the second default scenario: 600 ± 300 ms per call. Stripe publishes no latency
 * figures; integrators report a median of about 1.2 s for creating a charge in test mode, which Stripe
 * called normal (stripe/stripe-java#570). Half of that sends the service twice the payments a real
 * Stripe would let 100 clients send, so the overhead measured is, if anything, too high.
 */
const REALISTIC_STRIPE = { latencyMs: 600, spreadMs: 300 };
/**
 * What one run measures. By default two scenarios on the same processes, one per target, each where its
 * target means something:
 * 1. Stripe answering at once (the emulator as the mock of seed 002): the whole latency is ours, and
 *    the 100 clients send as many payments as the box can take; target p99 < 500 ms.
 * 2. Stripe answering as Stripe does: the time not spent waiting on Stripe (seed 001's overhead) with the
 *    clients waiting on Stripe as they would; target own overhead p99 < 100 ms. In scenario 1 the
 *    overhead is the whole latency, the queue of 100 clients in front of two saturated cores.
 * BENCH_STRIPE_LATENCY_MS or BENCH_RATE: the one scenario they describe, with every target's verdict.
 */
const SCENARIOS: Scenario[] =
  process.env.BENCH_STRIPE_LATENCY_MS !== undefined || RATE > 0
    ? [
        {
          latencyMs: STRIPE_LATENCY_MS,
          spreadMs: STRIPE_LATENCY_SPREAD_MS,
          targets: ['errors', 'p99', 'overhead'],
        },
      ]
    : [
        { latencyMs: 0, spreadMs: 0, targets: ['errors', 'p99'] },
        { ...REALISTIC_STRIPE, targets: ['errors', 'overhead'] },
      ];
/** Seconds of the same load before the measured one (not counted): see `load`'s caller. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
/** Accounts the clients pay in (client i uses account i mod BENCH_ACCOUNTS); one client per account by default. */
const ACCOUNTS = Math.max(1, Number(process.env.BENCH_ACCOUNTS ?? CLIENTS));
/** BENCH_TIMELINE=1: also prints the measured load second by second (payments finished, p50, p99, max). */
const TIMELINE = process.env.BENCH_TIMELINE === '1';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
const WEBHOOK_SECRET = 'whsec_bench_payments_0123456789';
const STRIPE_KEY = `sk_test_bench${randomUUID().replace(/-/g, '')}`;

/**
 * One POST over a kept-alive connection of `agent`: the clients use `node:http` rather than `fetch`
 * because the load generator shares the two cores with what it measures, and `fetch` costs several
 * times more CPU per request.
 */
function post(
  agent: Agent,
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; serverTiming: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, serverTiming: String(res.headers['server-timing'] ?? '') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const token = (claims: Record<string, string>, sub: string) => benchToken(JWT_SECRET, claims, sub);

await recreateDatabase(DATABASE_URL);
const apiPort = await freePort();
const base = `http://127.0.0.1:${apiPort}`;
// The endpoint is enabled for the events the README tells operators to enable, as in production.
const emulator = await startEmulator({
  port: 0,
  delivery: {
    globalEndpoints: [
      { url: `${base}/webhooks/stripe`, secret: WEBHOOK_SECRET, enabledEvents: [...STRIPE_ENDPOINT_EVENTS] },
    ],
  },
});
// Receipts are e-mailed: a local SMTP server takes them (and counts them).
const smtp = await startSmtpSink();
const env = {
  SMTP_URL: smtp.url,
  NODE_ENV: 'test',
  PORT: String(apiPort),
  HOST: '127.0.0.1',
  DATABASE_URL,
  DB_MIGRATE: 'true',
  REDIS_URL,
  QUEUE_PREFIX: `bench-payments-${randomUUID().slice(0, 8)}`,
  JWT_SECRET,
  LOG_LEVEL: 'warn',
  RATE_LIMIT_IP_PER_MINUTE: '100000000',
  RATE_LIMIT_ACCOUNT_PER_MINUTE: '100000000',
  STRIPE_API_BASE: emulator.url,
  STRIPE_SECRET_KEY: STRIPE_KEY,
  STRIPE_WEBHOOK_SECRETS: WEBHOOK_SECRET,
};
const api = (await spawnService('api', env)).child;
const worker = (await spawnService('worker', { ...env, PORT: '0' })).child;
try {
  const admin = await token({ role: 'admin' }, 'bench-admin');
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
  /** An account with its Stripe customer and a mirrored card: what a paying client needs. */
  const payer = async (n: number): Promise<{ headers: Record<string, string>; method: string }> => {
    const created = await fetch(`${base}/v1/admin/accounts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({
        name: `Bench payments ${n}`,
        billingEmail: `b${n}@bench.test`,
        owner: { userId: `bench-owner-${n}`, email: `o${n}@bench.test` },
      }),
    });
    const account = (await created.json()) as { id: string };
    const owner = await token({ role: 'owner', account_id: account.id }, `bench-owner-${n}`);
    const headers = { authorization: `Bearer ${owner}`, 'content-type': 'application/json' };
    const setup = await fetch(`${base}/v1/payment-methods/setup-intents`, {
      method: 'POST',
      headers: { authorization: headers.authorization },
    });
    if (setup.status !== 201) throw new Error(`setup intent answered ${setup.status}: ${await setup.text()}`);
    const customer = (
      await db.query<{ id: string | null }>('SELECT stripe_customer_id AS id FROM accounts WHERE id = $1', [
        account.id,
      ])
    ).rows[0]?.id;
    if (!customer) throw new Error('no customer');
    const attached = (await (
      await fetch(`${emulator.url}/v1/payment_methods/pm_card_visa/attach`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${STRIPE_KEY}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `customer=${customer}`,
      })
    ).json()) as { id: string };
    for (let i = 0; ; i++) {
      const list = (await (await fetch(`${base}/v1/payment-methods`, { headers })).json()) as {
        data: unknown[];
      };
      if (list.data.length > 0) break;
      if (i > 200) throw new Error('payment method not mirrored');
      await new Promise((r) => setTimeout(r, 50));
    }
    return { headers, method: attached.id };
  };
  const payers: Awaited<ReturnType<typeof payer>>[] = [];
  for (let n = 0; n < ACCOUNTS; n += 10) {
    payers.push(
      ...(await Promise.all(Array.from({ length: Math.min(10, ACCOUNTS - n) }, (_, i) => payer(n + i)))),
    );
  }
  await db.end();

  // Redis is shared with other users of the machine; its CPU counts whole (the queues are most of it).
  const cpu = await cpuMeter(DATABASE_URL, REDIS_URL, () => ({ api: api.pid, worker: worker.pid }));

  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const paymentsUrl = new URL(`${base}/v1/payments`);
  const payerOf = (i: number) => payers[i % payers.length] as (typeof payers)[number];
  const inbox = new pg.Client({ connectionString: DATABASE_URL });
  await inbox.connect();
  const count = async (query: string): Promise<number> =>
    Number((await inbox.query<{ n: number }>(query)).rows[0]?.n ?? 0);

  /** One load phase of `seconds`: the clients' payments, their latencies and what they were answered. */
  const load = async (seconds: number) => {
    const phase = {
      latencies: [] as number[],
      overheads: [] as number[],
      /** [seconds since the phase started when the payment finished, its latency in ms] */
      finished: [] as [number, number][],
      errors: new Map<string, number>(),
      waited: 0,
      busyMs: 0,
      maxInFlight: 0,
      elapsed: 0,
    };
    let inFlight = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    /** One payment; its latency counts from `t0` (for the open loop: when it was due, not when it left). */
    const payOnce = async (payer: (typeof payers)[number], t0: number): Promise<void> => {
      inFlight += 1;
      phase.maxInFlight = Math.max(phase.maxInFlight, inFlight);
      let outcome: string;
      try {
        const res = await post(
          agent,
          paymentsUrl,
          { ...payer.headers, 'idempotency-key': randomUUID() },
          JSON.stringify({ amount: 1000, currency: 'usd', paymentMethodId: payer.method }),
        );
        outcome = String(res.status);
        const stripeMs = Number(/stripe;dur=([\d.]+)/.exec(res.serverTiming)?.[1] ?? 0);
        phase.waited += stripeMs;
        phase.overheads.push(performance.now() - t0 - stripeMs);
      } catch (error) {
        const code = (error as { code?: string }).code;
        outcome = `network_error(${code ?? (error instanceof Error ? error.name : 'unknown')})`;
      }
      inFlight -= 1;
      const ms = performance.now() - t0;
      phase.busyMs += ms;
      phase.latencies.push(ms);
      if (TIMELINE) phase.finished.push([(performance.now() - started) / 1000, ms]);
      if (outcome !== '201') phase.errors.set(outcome, (phase.errors.get(outcome) ?? 0) + 1);
    };
    if (RATE > 0) {
      // Open loop: one payment every 1/RATE s whatever the answers, as many in flight as it takes.
      const pending: Promise<void>[] = [];
      for (let i = 0; ; i++) {
        const due = started + (i * 1000) / RATE;
        if (due >= deadline) break;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        pending.push(payOnce(payerOf(i), due));
      }
      await Promise.all(pending);
    } else {
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          while (performance.now() < deadline) await payOnce(payerOf(client), performance.now());
        }),
      );
    }
    phase.elapsed = (performance.now() - started) / 1000;
    return phase;
  };

  /**
   * The webhooks and e-mails of the payments are processed asynchronously: waits until the inbox and the
   * mail outbox are empty (at most 120 s), so that the CPU per payment includes all of their processing
   * (a backlog would otherwise hide it). Returns the seconds it took.
   */
  const drain = async (): Promise<number> => {
    const drainStarted = performance.now();
    for (;;) {
      const open = await count(
        `SELECT ((SELECT count(*) FROM webhook_events WHERE status IN ('pending', 'processing', 'failed'))
              + (SELECT count(*) FROM notifications WHERE status = 'pending'))::int AS n`,
      );
      if (open === 0 || performance.now() - drainStarted > 120_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return (performance.now() - drainStarted) / 1000;
  };

  for (const scenario of SCENARIOS) {
    emulator.chaos.update({ latencyMs: scenario.latencyMs, latencySpreadMs: scenario.spreadMs });
    // A service that has just started compiles its code, fills its pools and caches, and plans its
    // statements: its first seconds are slower than the rest. They are not what a running deployment
    // sees, so a warm-up load runs first, its backlog drains, and only then is the load measured.
    if (WARMUP > 0) {
      const warm = await load(WARMUP);
      await drain();
      warm.latencies.sort((a, b) => a - b);
      process.stdout.write(
        `warm-up ${WARMUP} s, not counted: ${warm.latencies.length} payments, p50 ${percentile(warm.latencies, 50).toFixed(1)} ms, p99 ${percentile(warm.latencies, 99).toFixed(1)} ms\n`,
      );
    }
    const cpuBefore = await cpu();
    const receiptsBefore = await count(`SELECT count(*)::int AS n FROM receipts`);
    const mailsBefore = smtp.received();
    const { latencies, overheads, errors, waited, busyMs, maxInFlight, elapsed, finished } =
      await load(SECONDS);
    const drainSeconds = await drain();
    const dead = await count(
      `SELECT count(*)::int AS n FROM webhook_events WHERE status NOT IN ('processed', 'ignored')`,
    );
    const receipts = (await count(`SELECT count(*)::int AS n FROM receipts`)) - receiptsBefore;
    const cpuAfter = await cpu();
    latencies.sort((a, b) => a - b);
    overheads.sort((a, b) => a - b);
    const perPayment = (part: keyof typeof cpuAfter) =>
      `${part} ${((1000 * (cpuAfter[part] - cpuBefore[part])) / Math.max(latencies.length, 1)).toFixed(1)}`;
    const p99 = percentile(latencies, 99);
    const overheadP99 = percentile(overheads, 99);
    const errorCount = [...errors.values()].reduce((sum, n) => sum + n, 0);
    const verdict = (target: Target): string => {
      const [text, met] =
        target === 'errors'
          ? ['no errors', errorCount === 0 && dead === 0]
          : target === 'p99'
            ? [`p99 < ${TARGET_P99_MS} ms (${p99.toFixed(1)} ms)`, p99 < TARGET_P99_MS]
            : [
                `own overhead p99 < ${TARGET_OVERHEAD_P99_MS} ms (${overheadP99.toFixed(1)} ms)`,
                overheadP99 < TARGET_OVERHEAD_P99_MS,
              ];
      return `${text}: ${met ? 'met' : 'NOT met'}`;
    };
    const stripeLatency =
      scenario.latencyMs > 0
        ? `Stripe calls ${scenario.latencyMs}${scenario.spreadMs > 0 ? ` ± ${scenario.spreadMs}` : ''} ms slower`
        : 'Stripe (the emulator) answering at once';
    process.stdout.write(
      [
        RATE > 0
          ? `bench:payments open loop at ${RATE}/s in ${ACCOUNTS} account(s), ${SECONDS} s, distinct keys, ${stripeLatency}; at most ${maxInFlight} in flight`
          : `bench:payments ${CLIENTS} clients in ${ACCOUNTS} account(s), ${SECONDS} s, distinct keys, ${stripeLatency}`,
        // The worker lags the api under a closed loop: what it still has to do when the load ends (the
        // drain) was borrowed from after the measured window. Counting the drain gives the sustained rate.
        `  payments     ${latencies.length} (${(latencies.length / elapsed).toFixed(1)}/s; ${(latencies.length / (elapsed + drainSeconds)).toFixed(1)}/s sustained, counting the drain)`,
        `  latency      p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${(latencies[latencies.length - 1] ?? 0).toFixed(1)} ms`,
        `  errors       ${[...errors].map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'}`,
        `  waiting on Stripe (the emulator): ${((100 * waited) / Math.max(busyMs, 1)).toFixed(1)}% of request time`,
        `  own overhead p50 ${percentile(overheads, 50).toFixed(1)} ms, p99 ${overheadP99.toFixed(1)} ms (latency minus Server-Timing stripe)`,
        `  webhooks     inbox and mail outbox drained ${drainSeconds.toFixed(1)} s after the load ended; ${dead} events not processed`,
        `  receipts     ${receipts} issued, ${smtp.received() - mailsBefore} e-mails received by the SMTP server`,
        `  CPU ms per payment: ${(['api', 'worker', 'postgres', 'redis', 'bench'] as const).map(perPayment).join(', ')}, total ${(
          (1000 *
            (['api', 'worker', 'postgres', 'redis', 'bench'] as const).reduce(
              (sum, part) => sum + cpuAfter[part] - cpuBefore[part],
              0,
            )) /
          Math.max(latencies.length, 1)
        ).toFixed(1)} (bench = emulator + clients + SMTP server)`,
        `  targets      ${scenario.targets.map(verdict).join('; ')}`,
        '',
      ].join('\n'),
    );
    if (TIMELINE) {
      // Second by second: a stall shows as a second with few payments finished and a high max.
      const seconds = new Map<number, number[]>();
      for (const [at, ms] of finished) {
        const second = Math.floor(at);
        const list = seconds.get(second) ?? [];
        list.push(ms);
        seconds.set(second, list);
      }
      const lines = [...seconds].map(([second, mss]) => {
        mss.sort((a, b) => a - b);
        return `  ${String(second).padStart(3)} s  ${String(mss.length).padStart(4)} payments  p50 ${percentile(mss, 50).toFixed(0).padStart(5)} ms  p99 ${percentile(mss, 99).toFixed(0).padStart(5)} ms  max ${(mss[mss.length - 1] ?? 0).toFixed(0).padStart(5)} ms`;
      });
      process.stdout.write(
        ['timeline (second of the measured load in which payments finished):', ...lines, ''].join('\n'),
      );
    }
  }
  agent.destroy();
  await inbox.end();
} finally {
  api.kill('SIGTERM');
  worker.kill('SIGTERM');
  await emulator.close();
  await smtp.close();
}
