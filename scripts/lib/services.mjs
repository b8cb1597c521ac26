// Shared by start.mjs and smoke.mjs: plain JavaScript so that it runs before anything is built
// (databases: databases.mjs).
import { execSync } from 'node:child_process';
import net from 'node:net';

/** True when something accepts TCP connections at host:port within the timeout. */
export function reachable(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitFor(check, { timeoutMs = 30000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

export function commandWorks(cmd) {
  try {
    execSync(cmd, { stdio: 'ignore', timeout: 15000 });
    return true;
  } catch {
    return false;
  }
}

export function hostPort(url, defaultPort) {
  const u = new URL(url);
  return { host: u.hostname === 'localhost' ? '127.0.0.1' : u.hostname, port: Number(u.port || defaultPort) };
}

/**
 * Makes PostgreSQL and Redis answer: Docker Compose where a Docker engine runs, the machine's own
 * services otherwise. Returns a list of problems (empty when both answer).
 */
export async function ensureServices({ databaseUrl, redisUrl, log = console.log }) {
  const pg = hostPort(databaseUrl, 5432);
  const redis = hostPort(redisUrl, 6379);
  const up = async () => ({
    pg: await reachable(pg.host, pg.port),
    redis: await reachable(redis.host, redis.port),
  });
  let state = await up();
  if (state.pg && state.redis) return [];
  const local = ['127.0.0.1', '::1'].includes(pg.host) && ['127.0.0.1', '::1'].includes(redis.host);
  if (local && commandWorks('docker info')) {
    log('starting postgres and redis with docker compose ...');
    execSync('docker compose -f docker-compose.dev.yml up -d --wait', { stdio: 'inherit' });
  } else if (local) {
    if (!state.pg && commandWorks('command -v pg_ctlcluster')) {
      log('starting the local PostgreSQL cluster ...');
      commandWorks('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main start');
    }
    if (!state.redis && commandWorks('command -v redis-server')) {
      log('starting a local Redis ...');
      commandWorks(
        `redis-server --daemonize yes --bind 127.0.0.1 --port ${redis.port} --save "" --appendonly no`,
      );
    }
  }
  await waitFor(
    async () => {
      state = await up();
      return state.pg && state.redis;
    },
    { timeoutMs: 30000 },
  );
  const problems = [];
  if (!state.pg)
    problems.push(
      `PostgreSQL does not answer at ${pg.host}:${pg.port}. Start it (docker compose -f docker-compose.dev.yml up -d, or your own server) or set DATABASE_URL.`,
    );
  if (!state.redis)
    problems.push(
      `Redis does not answer at ${redis.host}:${redis.port}. Start it (docker compose -f docker-compose.dev.yml up -d, or redis-server) or set REDIS_URL.`,
    );
  return problems;
}
