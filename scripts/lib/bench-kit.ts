/**
 * What the benches share (webhooks.ts, payments.ts, subscriptions.ts): starting the compiled service as
 * a child process and stopping it, the bench database, percentiles, waiting with a deadline, signing a
 * Stripe event, an SMTP sink for the services' e-mails, and the Linux /proc CPU accounting of the service's processes, its PostgreSQL backends
 * and the Redis server. Bench code, not a test support: nothing here mocks anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { nodeArgsFor } from '../bench/service-node-args.js';

/** The value at percentile `p` (0..100) of an ascending array (nearest rank, floor); 0 when empty. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Creates the database of `url` when it does not exist (the service migrates it on start). */
/** A bearer token the bench's service accepts (HS256 with the bench's JWT_SECRET), valid for two hours. */
export function benchToken(secret: string, claims: Record<string, string>, sub: string): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
}

export async function ensureDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  const name = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
}

/** A fresh database for every run: rows left by an earlier run must not count in this one. */
export async function recreateDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  const name = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
}

/** A loopback port free at the time of asking. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RunningService {
  child: ChildProcess;
  /** The api's `http://host:port` (from its start-up line); the worker's start-up line for the worker. */
  match: string;
}

/**
 * Starts `dist/apps/billing-api/src/main.js` as APP_ROLE=`role` with `env` over this process's
 * environment, under the production V8 flags of its role (`nodeArgsFor`) and then BENCH_NODE_ARGS (e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof"; a later flag wins). Resolves when it says it has started
 * (at most `startMs`), rejects when it exits first. With BENCH_SERVICE_STDOUT_DIR set, each process's
 * stdout (its logs, and e.g. `--trace-gc` lines) is also written to `<dir>/<role>.log`.
 */
export function spawnService(
  role: 'api' | 'worker',
  env: Record<string, string>,
  startMs = 60_000,
): Promise<RunningService> {
  const nodeArgs = [...nodeArgsFor(role), ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, 'dist/apps/billing-api/src/main.js'], {
    env: { ...process.env, ...env, APP_ROLE: role },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = role === 'api' ? /listening on (http:\/\/\S+)/ : /billing-worker started/;
  const logDir = process.env.BENCH_SERVICE_STDOUT_DIR;
  if (logDir) child.stdout?.pipe(createWriteStream(`${logDir}/${role}.log`));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${role} did not start in ${startMs / 1000} s`));
    }, startMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        out = '';
        resolve({ child, match: m[1] ?? m[0] });
      }
    };
    child.stdout?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited with ${code}: ${out}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited (or was already gone). */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Polls `probe` every 100 ms until it is true (true) or `deadlineMs` has passed (false). */
export async function waitUntil(probe: () => Promise<boolean>, deadlineMs: number): Promise<boolean> {
  const deadline = performance.now() + deadlineMs;
  while (performance.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** The `Stripe-Signature` header of `body` signed with `secret` at `timestamp` (unix seconds), as Stripe signs. */
export function stripeSignature(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/** CPU seconds (user + system) a process has used so far; 0 where /proc is not available. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export type CpuPart = 'api' | 'worker' | 'postgres' | 'redis' | 'bench';
export type CpuReading = Record<CpuPart, number>;
/** Reads the CPU used so far; `close` stops the refreshing of the backends' readings (if any). */
export type CpuMeter = (() => Promise<CpuReading>) & { close: () => void };

/**
 * Reads the CPU seconds used so far by the api, the worker, the PostgreSQL backends connected to the
 * database of `databaseUrl` (every one seen at a reading, those that have exited since included), the
 * Redis server of `redisUrl` (shared with other users of the machine: it counts whole) and this process.
 * `refreshMs`: the backends are also read every so many ms in between (their pids are found in
 * pg_stat_activity), so that one that starts and exits between two readings is counted too.
 * `ignoreApplicationName`: the backends of connections with this `application_name` are not counted
 * (the bench's own, polling for the end of a drain).
 */
export async function cpuMeter(
  databaseUrl: string,
  redisUrl: string,
  processes: () => { api?: number; worker?: number },
  options: { refreshMs?: number; ignoreApplicationName?: string } = {},
): Promise<CpuMeter> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? 0);
  await redis.quit();
  /**
   * Every backend seen so far, by pid and start time, with the CPU it had used when last seen: a
   * backend that exits between two readings (a pool shrinking when idle) keeps what it used, so the
   * difference of two readings is never negative (it misses only what one used after its last reading).
   */
  const seen = new Map<string, number>();
  const postgres = async (): Promise<number> => {
    const probe = new pg.Client({ connectionString: databaseUrl });
    await probe.connect();
    try {
      const rows = (
        await probe.query<{ pid: number; started: string }>(
          `SELECT pid, backend_start::text AS started FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND application_name IS DISTINCT FROM $1`,
          [options.ignoreApplicationName ?? null],
        )
      ).rows;
      for (const r of rows) seen.set(`${r.pid}@${r.started}`, cpuSeconds(r.pid));
    } finally {
      await probe.end();
    }
    return [...seen.values()].reduce((sum, seconds) => sum + seconds, 0);
  };
  // Refreshing the backends' readings between two readings of the caller catches the backends that
  // live and exit between them (pools open and close connections under load).
  let refreshing = false;
  const timer =
    options.refreshMs && options.refreshMs > 0
      ? setInterval(() => {
          if (refreshing) return;
          refreshing = true;
          void postgres()
            .catch(() => 0)
            .finally(() => {
              refreshing = false;
            });
        }, options.refreshMs)
      : undefined;
  const read = async (): Promise<CpuReading> => {
    const { api, worker } = processes();
    return {
      api: cpuSeconds(api),
      worker: cpuSeconds(worker),
      postgres: await postgres(),
      redis: cpuSeconds(redisPid),
      bench: cpuSeconds(process.pid),
    };
  };
  return Object.assign(read, { close: () => clearInterval(timer) });
}

/** "api 1.2, worker 3.4, …, total 9.9": CPU ms per operation between two readings. */
export function cpuPerOperation(
  before: CpuReading,
  after: CpuReading,
  operations: number,
  parts: readonly CpuPart[] = ['api', 'worker', 'postgres', 'redis', 'bench'],
): string {
  const per = (seconds: number) => ((1000 * seconds) / Math.max(operations, 1)).toFixed(2);
  const total = parts.reduce((sum, part) => sum + after[part] - before[part], 0);
  return `${parts.map((part) => `${part} ${per(after[part] - before[part])}`).join(', ')}, total ${per(total)}`;
}

/** An SMTP server that accepts every message and only counts them (the services' e-mails go here). */
export async function startSmtpSink(): Promise<{
  url: string;
  received: () => number;
  close: () => Promise<void>;
}> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, callback) => {
      stream.resume();
      stream.on('end', () => {
        received += 1;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
