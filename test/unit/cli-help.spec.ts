// Every command-line script answers --help with its usage and exits 0, before it reads .env, connects to
// anything or builds: the compiled ones from dist/ (npm test builds first; a missing build fails here).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { requireBuild } from '../support/built-service.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

// [script, what its usage must name]
const CLIS: Array<[string, string[]]> = [
  ['dist/scripts/token.js', ['--role', '--account', '--ttl']],
  ['dist/scripts/migrate.js', ['run', 'revert', 'show', 'generate']],
  ['dist/scripts/seed.js', ['SEED_API_URL', 'JWT_SECRET']],
  ['dist/scripts/seed-demo.js', ['SEED_API_URL', 'JWT_SECRET', 'test clock']],
  ['dist/scripts/catalog-sync.js', ['--dry-run', 'CATALOG_PATH']],
  ['dist/scripts/bench/index.js', ['BENCH_CONCURRENCY']],
  ['dist/scripts/bench/webhooks.js', ['BENCH_EVENTS']],
  ['dist/scripts/bench/payments.js', ['BENCH_CLIENTS']],
  ['dist/scripts/bench/subscriptions.js', ['BENCH_RATE', 'BENCH_SECONDS', 'BENCH_ACCOUNTS']],
  ['dist/scripts/bench/entitlements.js', ['BENCH_CONNECTIONS', 'BENCH_CHECKS', 'BENCH_RATE']],
  ['dist/scripts/bench/peers.js', ['BENCH_EVENTS', 'BENCH_STRIPE_OPENAPI', '--openapi', 'BENCH_PEERS_DIR']],
  ['dist/scripts/bench/plan-changes.js', ['BENCH_CLIENTS', 'BENCH_STRIPE_LATENCY_MS']],
  ['dist/scripts/bench/dunning.js', ['BENCH_ACCOUNTS', 'BENCH_PER_CLOCK']],
  ['dist/scripts/bench/reconciliation.js', ['BENCH_SUBSCRIPTIONS', 'BENCH_DRIFT_PERCENT']],
  ['scripts/start.mjs', ['PostgreSQL', 'emulator']],
  ['scripts/dev.mjs', ['--watch', 'emulator']],
  ['scripts/smoke.mjs', ['billing_smoke']],
  ['scripts/openapi-lint.mjs', ['Redocly', '/docs-json']],
  ['scripts/guard-types.mjs', ['--check', 'openapi-typescript']],
  ['scripts/stripe-schemas/generate.mjs', ['--check']],
  ['apps/stripe-emulator/openapi/refresh.mjs', ['--spec', '--fixtures']],
];

function run(script: string, args: string[]) {
  // No database, Redis or Stripe configured: --help must not need them.
  return spawnSync(process.execPath, [script, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
  });
}

describe('--help of every command-line script', () => {
  it('covers every script in scripts/ (a new one answers --help too: add it above)', () => {
    const sources = [
      ...readdirSync(path.join(ROOT, 'scripts'), { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(ts|mjs)$/.test(f) && !/\.spec\.ts$|\.d\.mts$/.test(f))
        .filter((f) => !f.startsWith(`lib${path.sep}`) && !f.endsWith(`service-node-args.ts`))
        .map((f) => path.join('scripts', f)),
    ];
    const covered = CLIS.map(([script]) => script.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
    expect(sources.filter((f) => !covered.includes(f)).sort()).toEqual([]);
  });

  it.each(CLIS)('%s', (script, names) => {
    if (script.startsWith('dist/')) requireBuild(path.join(ROOT, script));
    for (const flag of ['--help', '-h']) {
      const r = run(script, [flag]);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toMatch(/^Usage: /);
      for (const name of names) expect(r.stdout).toContain(name);
    }
  });

  it('token.js refuses an unknown option with its usage instead of a stack trace', () => {
    requireBuild(path.join(ROOT, 'dist/scripts/token.js'));
    const r = run('dist/scripts/token.js', ['--rol', 'admin']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--rol'[\s\S]*Usage: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('migrate.js refuses an unknown command with its usage, before connecting', () => {
    requireBuild(path.join(ROOT, 'dist/scripts/migrate.js'));
    const r = run('dist/scripts/migrate.js', ['upgrade']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command upgrade[\s\S]*Usage: /);
  });
});
