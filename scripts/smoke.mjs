// `npm run test:smoke`: the compiled service as operators run it (node dist/..., real ESM resolution),
// which the Jest suites cannot show: a malformed variable stops start-up naming it; api, worker and
// all roles boot against PostgreSQL and Redis; readiness and Swagger answer; SIGTERM stops cleanly.
import { execFileSync, spawn } from 'node:child_process';
import { ensureDatabase } from './lib/databases.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`Usage: npm run test:smoke   (builds, then node scripts/smoke.mjs)

Starts the compiled service as operators do (node dist/...) against PostgreSQL (database billing_smoke
beside TEST_DATABASE_URL) and Redis (TEST_REDIS_URL, default db 2): a malformed variable stops it naming
the variable; each role boots; readiness and Swagger answer; SIGTERM stops it cleanly.`);
  process.exit(0);
}
const MAIN = 'dist/apps/billing-api/src/main.js';
const DATABASE_URL = process.env.TEST_DATABASE_URL
  ? process.env.TEST_DATABASE_URL.replace(/\/[^/]+$/, '/billing_smoke')
  : 'postgres://postgres@127.0.0.1:5432/billing_smoke';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/2';
let passed = 0;
let failed = 0;

function run(env, { waitForExit = false } = {}) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => out, waitForExit };
}

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`  ✓ ${name}`);
  } catch (e) {
    failed++;
    console.log(`  ✗ ${name}\n    ${e instanceof Error ? e.message : e}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function until(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const base = { DATABASE_URL, REDIS_URL, QUEUE_PREFIX: `smoke-${process.pid}` };
await ensureDatabase(DATABASE_URL);
console.log('smoke: compiled service');

await check('a malformed variable stops start-up with a message naming it', async () => {
  const p = run({ ...base, PORT: 'abc', REDIS_URL: 'nope' });
  const { code } = await p.exited;
  assert(code === 1, `exit code ${code}`);
  assert(
    /PORT:/.test(p.output()) && /REDIS_URL:/.test(p.output()),
    `output did not name PORT and REDIS_URL: ${p.output()}`,
  );
});

await check(
  'api, worker and all roles boot; readiness, Swagger and a CLI token work; SIGTERM stops each cleanly',
  async () => {
    const all = run({ ...base, APP_ROLE: 'all', PORT: '0', HOST: '127.0.0.1' });
    const url = await until(
      () => /listening on (http:\/\/\S+)/.exec(all.output())?.[1],
      30000,
      `the all role to listen:\n${all.output()}`,
    );
    const worker = run({ ...base, APP_ROLE: 'worker' });
    const api = run({ ...base, APP_ROLE: 'api', PORT: '0', HOST: '127.0.0.1' });
    try {
      const apiUrl = await until(
        () => /listening on (http:\/\/\S+)/.exec(api.output())?.[1],
        30000,
        `the api role to listen:\n${api.output()}`,
      );
      await until(
        () => /billing-worker started/.test(worker.output()),
        30000,
        `the worker to start:\n${worker.output()}`,
      );
      for (const u of [url, apiUrl]) {
        const ready = await fetch(`${u}/health/ready`);
        assert(ready.status === 200, `${u}/health/ready answered ${ready.status}`);
      }
      const docs = await fetch(`${url}/docs-json`);
      const doc = await docs.json();
      assert(doc.components?.securitySchemes?.bearer?.scheme === 'bearer', 'Swagger has no bearer scheme');
      const ui = await fetch(`${url}/docs`);
      assert(ui.status === 200, `/docs answered ${ui.status}`);
      // The development token CLI signs what the service verifies.
      const token = execFileSync(process.execPath, ['dist/scripts/token.js', '--role', 'admin'], {
        env: { PATH: process.env.PATH, NODE_ENV: 'test' },
      })
        .toString()
        .trim();
      const listed = await fetch(`${url}/v1/admin/accounts`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert(listed.status === 200, `a token from npm run token was refused: ${listed.status}`);
    } finally {
      for (const p of [all, worker, api]) p.child.kill('SIGTERM');
    }
    for (const [name, p] of [
      ['all', all],
      ['worker', worker],
      ['api', api],
    ]) {
      const result = await Promise.race([
        p.exited,
        new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 15000)),
      ]);
      assert(
        result.code === 0 || result.signal === 'SIGTERM',
        `${name} did not stop cleanly: ${JSON.stringify(result)}\n${p.output()}`,
      );
    }
  },
);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
