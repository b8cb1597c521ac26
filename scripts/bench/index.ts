/**
 * `npm run bench`: the platform's own overhead on this machine, not a test. Starts the compiled service
 * (role all) on a random port against the local PostgreSQL and Redis, then for each scenario runs a
 * fixed number of requests at fixed concurrency and prints requests/s, p50, p99 and errors:
 * - liveness (`GET /health`): the HTTP stack alone;
 * - authenticated read (`GET /v1/accounts/:id`): JWT, rate limit in Redis, roles, a PostgreSQL read;
 * - idempotent write (`POST /v1/admin/accounts`, a new key each): the idempotency table, a transaction
 *   with an audit record.
 * Bounded in count and time; only loopback traffic.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { SERVICE_NODE_ARGS } from './service-node-args.js';
import { exitWithHelpIfAsked } from '../lib/help.js';

exitWithHelpIfAsked(`
Usage: npm run bench           (builds, then node dist/scripts/bench/index.js)

The platform's own overhead on this machine (not a test): the compiled service against the local
PostgreSQL and Redis; liveness, an authenticated read and an idempotent write at fixed concurrency.
  BENCH_DATABASE_URL   default postgres://postgres@127.0.0.1:5432/billing_bench
  BENCH_CONCURRENCY    concurrent clients (default 50)
  BENCH_REQUESTS       requests per scenario (default 5000)
  -h, --help           this text
`);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/billing_bench';
const SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5000);

async function ensureDatabase(url: string): Promise<void> {
  const { default: pg } = await import('pg');
  const admin = new URL(url);
  const name = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function scenario(name: string, request: (i: number) => Promise<Response>): Promise<void> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + 60_000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS && performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        try {
          const r = await request(i);
          await r.arrayBuffer();
          if (!r.ok) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    `${name.padEnd(28)} ${String(Math.round(latencies.length / seconds)).padStart(6)} req/s  p50 ${percentile(latencies, 50).toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms  errors ${errors}\n`,
  );
}

await ensureDatabase(DATABASE_URL);
const child = spawn(process.execPath, [...SERVICE_NODE_ARGS, 'dist/apps/billing-api/src/main.js'], {
  env: {
    ...process.env,
    NODE_ENV: 'test',
    APP_ROLE: 'all',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL,
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3',
    QUEUE_PREFIX: 'bench',
    JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_IP_PER_MINUTE: '100000000',
    RATE_LIMIT_ACCOUNT_PER_MINUTE: '100000000',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m?.[1]) resolve(m[1]);
  });
  child.on('exit', (code) => reject(new Error(`service exited with ${code}`)));
});
try {
  const admin = await new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
  const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
  const created = await fetch(`${base}/v1/admin/accounts`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': randomUUID() },
    body: JSON.stringify({
      name: 'Bench',
      billingEmail: 'b@bench.test',
      owner: { userId: 'bench-owner', email: 'o@bench.test' },
    }),
  });
  const account = (await created.json()) as { id: string };
  process.stdout.write(
    `bench: ${REQUESTS} requests per scenario, ${CONCURRENCY} concurrent, against ${base}\n`,
  );
  await scenario('GET /health', () => fetch(`${base}/health`));
  await scenario('GET /v1/accounts/:id', () => fetch(`${base}/v1/accounts/${account.id}`, { headers }));
  await scenario('POST /v1/admin/accounts', (i) =>
    fetch(`${base}/v1/admin/accounts`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        name: `Bench ${i}`,
        billingEmail: 'b@bench.test',
        owner: { userId: `u-${i}-${randomUUID()}`, email: 'o@bench.test' },
      }),
    }),
  );
} finally {
  child.kill('SIGTERM');
}
