/**
 * `npm run bench:webhooks`: the webhook spine on this machine, not a test. Starts the compiled service as
 * two processes (APP_ROLE=api on a random port, APP_ROLE=worker) against the local PostgreSQL and Redis
 * (database billing_bench, Redis db 3, a fresh queue prefix), plus a FLOOR: a bare `node:http` process
 * that verifies the HMAC, inserts the inbox row and enqueues the Bull job, nothing else. Then:
 * 1. intake: signed `customer.updated` events (a customer of no account: verified, stored, queued, and
 *    processed to `ignored`) at rising concurrency, closed loop; events/s, p50/p99 acknowledgement;
 *    the floor at the same concurrency and the ratio ours/floor. Both servers are warmed up first with
 *    BENCH_WARMUP events each (default 1,000, at 10 connections; not counted, rows truncated), so that
 *    the first level compares JIT-compiled code on both sides rather than a cold start of ours;
 * 2. end to end: open loop at fixed rates; acknowledged events/s, drained events/s and the p99 lag from
 *    sending to `processed_at`;
 * 3. backlog: with the worker stopped, BENCH_BACKLOG events are stored and queued; a worker is started
 *    and the drain is timed; every event must end processed or ignored (no loss).
 * Bounded in count and time (every phase has a deadline); loopback traffic only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import Bull from 'bull';
import pg from 'pg';
import {
  ensureDatabase,
  percentile,
  spawnService as startService,
  stop,
  stripeSignature,
  waitUntil,
  type RunningService,
} from '../lib/bench-kit.js';
import { exitWithHelpIfAsked } from '../lib/help.js';

exitWithHelpIfAsked(`
Usage: npm run bench:webhooks  (builds, then node dist/scripts/bench/webhooks.js)

Webhook intake against a bare node:http floor, end-to-end lag and backlog drain (not a test).
  BENCH_DATABASE_URL   default postgres://postgres@127.0.0.1:5432/billing_bench
  BENCH_REDIS_URL      default redis://127.0.0.1:6379/3
  BENCH_EVENTS         events per level (default 3000)
  BENCH_CONCURRENCY    connection levels (default 10,50,100)
  -h, --help           this text
`);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_bench';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3';
const SECRET = 'whsec_bench_webhooks_0123456789';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 3000);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '10,50,100').split(',').map(Number);
const RATES = (process.env.BENCH_RATES ?? '100,200,400').split(',').map(Number);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 10);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 5000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const PHASE_DEADLINE_MS = 120_000;

// ---------------------------------------------------------------------------------------------------
// The floor: what any webhook intake must do at least (child process: `webhooks.js --floor`).
// ---------------------------------------------------------------------------------------------------
async function runFloor(): Promise<void> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
  const queue = new Bull('webhooks', { redis: REDIS_URL, prefix: `bench-floor-${process.pid}` });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = String(req.headers['stripe-signature'] ?? '');
        const t = /t=(\d+)/.exec(header)?.[1];
        const v1 = /v1=([0-9a-f]{64})/.exec(header)?.[1];
        const expected = createHmac('sha256', SECRET).update(`${t}.${body}`).digest();
        if (
          !t ||
          !v1 ||
          Math.abs(Date.now() / 1000 - Number(t)) > 300 ||
          !timingSafeEqual(expected, Buffer.from(v1, 'hex'))
        ) {
          res.writeHead(400).end();
          return;
        }
        const event = JSON.parse(body) as { id: string; type: string; api_version: string; created: number };
        const inserted = await pool.query(
          `INSERT INTO webhook_events (id, type, api_version, livemode, event_created, received_at, payload, status, attempts, updated_at)
           VALUES ($1, $2, $3, false, to_timestamp($4), now(), $5::jsonb, 'pending', 0, now())
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          [event.id, event.type, event.api_version, event.created, body],
        );
        if (inserted.rowCount)
          await queue.add('webhooks.process-event', { eventId: event.id }, { jobId: event.id });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      })().catch(() => res.writeHead(503).end());
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`floor listening on ${typeof address === 'object' && address ? address.port : 0}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    void queue
      .obliterate({ force: true })
      .catch(() => undefined)
      .finally(() => void Promise.all([queue.close(), pool.end()]).finally(() => process.exit(0)));
  });
}

// ---------------------------------------------------------------------------------------------------
// The bench.
// ---------------------------------------------------------------------------------------------------
function signedEvent(): { body: string; signature: string } {
  const id = `evt_bench_${randomBytes(10).toString('hex')}`;
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: now,
    livemode: false,
    type: 'customer.updated',
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id: `cus_bench_${randomBytes(6).toString('hex')}`,
        object: 'customer',
        balance: 0,
        created: now,
        delinquent: false,
        email: null,
        invoice_settings: { default_payment_method: null, custom_fields: null, footer: null },
        livemode: false,
        metadata: {},
        sent_at_ms: Date.now(),
      },
      previous_attributes: { balance: 100 },
    },
  });
  return { body, signature: stripeSignature(SECRET, body, now) };
}

function post(url: string): Promise<Response> {
  const { body, signature } = signedEvent();
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body,
  });
}

async function closedLoop(
  url: string,
  concurrency: number,
  count: number,
): Promise<{ rate: number; p50: number; p99: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + PHASE_DEADLINE_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count && performance.now() < deadline) {
        next++;
        const t0 = performance.now();
        try {
          const r = await post(url);
          await r.arrayBuffer();
          if (r.status !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

function spawnService(
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: string }> {
  const child = spawn(process.execPath, [process.argv[1] ?? '', ...(env.FLOOR ? ['--floor'] : [])], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve({ child, match: m[1] ?? m[0] });
    });
    child.on('exit', (code) => reject(new Error(`process exited with ${code}: ${out}`)));
  });
}

function service(role: 'api' | 'worker', prefix: string): Promise<RunningService> {
  return startService(role, {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    STRIPE_WEBHOOK_SECRETS: SECRET,
    WEBHOOK_SWEEP_AFTER_MS: '3600000',
    LOG_LEVEL: 'warn',
  });
}

const line = (s: string): boolean => process.stdout.write(`${s}\n`);

async function bench(): Promise<void> {
  await ensureDatabase(DATABASE_URL);
  const prefix = `bench-wh-${process.pid}`;
  const api = await service('api', prefix); // migrates the bench database
  let worker = await service('worker', prefix);
  const floor = await spawnService({ FLOOR: '1' }, /floor listening on (\d+)/);
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  const ours = `${api.match}/webhooks/stripe`;
  const floorUrl = `http://127.0.0.1:${floor.match}/`;
  const finished = async (): Promise<number> =>
    Number(
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_events WHERE status IN ('processed', 'ignored')`,
        )
      ).rows[0]?.n ?? 0,
    );
  try {
    line(`bench:webhooks against ${api.match} (api + worker processes), floor on :${floor.match}`);
    line(`machine: ${(await import('node:os')).cpus().length} cores; loopback only\n`);

    // 1. intake, closed loop, ours and the floor at each concurrency. The worker is stopped meanwhile:
    //    the floor only stores and enqueues, so ours must not share the 2 cores with processing either.
    //    (The jobs queued here find no row after the TRUNCATE and finish at once when a worker runs.)
    await stop(worker.child);
    if (WARMUP > 0) {
      // Not measured: both servers answer WARMUP events before the first level.
      await db.query('TRUNCATE webhook_events');
      await closedLoop(ours, 10, WARMUP);
      await db.query('TRUNCATE webhook_events');
      await closedLoop(floorUrl, 10, WARMUP);
      line(`warm-up: ${WARMUP} events to each server, not counted`);
    }
    line(
      'intake (closed loop)         events/s    p50 ms    p99 ms  errors   floor ev/s  floor p99  ours/floor',
    );
    for (const concurrency of LEVELS) {
      await db.query('TRUNCATE webhook_events');
      const a = await closedLoop(ours, concurrency, EVENTS);
      await db.query('TRUNCATE webhook_events');
      const f = await closedLoop(floorUrl, concurrency, EVENTS);
      line(
        `  ${String(concurrency).padStart(3)} connections        ${a.rate.toFixed(0).padStart(8)} ${a.p50.toFixed(1).padStart(9)} ${a.p99.toFixed(1).padStart(9)} ${String(a.errors).padStart(7)} ${f.rate.toFixed(0).padStart(12)} ${f.p99.toFixed(1).padStart(10)} ${(a.rate / f.rate).toFixed(2).padStart(11)}`,
      );
    }
    await db.query('TRUNCATE webhook_events');
    worker = await service('worker', prefix);
    const queued = new Bull('webhooks', { redis: REDIS_URL, prefix });
    await waitUntil(async () => {
      const c = await queued.getJobCounts();
      return c.waiting + c.active + c.delayed === 0;
    }, PHASE_DEADLINE_MS);
    await queued.close();

    // 2. end to end, open loop at fixed rates.
    line('\nend to end (open loop)   offered/s  acked/s  drained/s  p50 lag ms  p99 lag ms  errors');
    for (const rate of RATES) {
      await db.query('TRUNCATE webhook_events');
      const total = rate * RATE_SECONDS;
      let errors = 0;
      const inflight: Promise<void>[] = [];
      const started = performance.now();
      for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        inflight.push(
          post(ours).then(
            async (r) => {
              await r.arrayBuffer();
              if (r.status !== 200) errors++;
            },
            () => {
              errors++;
            },
          ),
        );
      }
      await Promise.all(inflight);
      const ackSeconds = (performance.now() - started) / 1000;
      await waitUntil(async () => (await finished()) >= total - errors, PHASE_DEADLINE_MS);
      const lags = (
        await db.query<{ lag: number; at: number }>(
          `SELECT extract(epoch FROM processed_at) * 1000 - (payload->'data'->'object'->>'sent_at_ms')::float8 AS lag,
                  extract(epoch FROM processed_at) * 1000 AS at
             FROM webhook_events WHERE processed_at IS NOT NULL`,
        )
      ).rows;
      const sortedLags = lags.map((r) => Number(r.lag)).sort((a, b) => a - b);
      const firstSent = Math.min(...lags.map((r) => Number(r.at) - Number(r.lag)));
      const lastDone = Math.max(...lags.map((r) => Number(r.at)));
      line(
        `  ${String(rate).padStart(4)}/s for ${RATE_SECONDS} s      ${String(rate).padStart(6)} ${(total / ackSeconds).toFixed(0).padStart(8)} ${((lags.length / (lastDone - firstSent)) * 1000).toFixed(0).padStart(10)} ${percentile(sortedLags, 50).toFixed(0).padStart(11)} ${percentile(sortedLags, 99).toFixed(0).padStart(11)} ${String(errors).padStart(7)}`,
      );
    }

    // 3. backlog: stored and queued while no worker runs, then drained.
    if (BACKLOG > 0) {
      await db.query('TRUNCATE webhook_events');
      await stop(worker.child);
      const stored = await closedLoop(ours, 50, BACKLOG);
      const count = BACKLOG - stored.errors;
      const t0 = performance.now();
      worker = await service('worker', prefix);
      const drained = await waitUntil(async () => (await finished()) >= count, 10 * PHASE_DEADLINE_MS);
      const seconds = (performance.now() - t0) / 1000;
      const byStatus = (
        await db.query<{ status: string; n: number }>(
          'SELECT status, count(*)::int AS n FROM webhook_events GROUP BY status ORDER BY status',
        )
      ).rows
        .map((r) => `${r.status}=${r.n}`)
        .join(' ');
      line(
        `\nbacklog: ${count} events stored at ${stored.rate.toFixed(0)}/s with no worker; drained in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)} events/s incl. worker start-up)${drained ? '' : ' — DEADLINE HIT'}; inbox: ${byStatus}`,
      );
    }
  } finally {
    await db.end();
    await Promise.all([stop(api.child), stop(worker.child), stop(floor.child)]);
  }
}

if (process.argv.includes('--floor')) await runFloor();
else await bench();
