// `npm run seed:demo` runs against the emulator or a real Stripe account's test mode (docs/getting-started.md,
// "Demo data"), never against a live account: a live key is refused before the script calls anything (the
// service's address here is a closed port, so a call would fail with another message).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { requireBuild } from '../support/built-service.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SEED = 'dist/scripts/seed-demo.js';

function seedWith(key: string) {
  return spawnSync(process.execPath, [SEED], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      SEED_API_URL: 'http://127.0.0.1:1',
      JWT_SECRET: 'seed-demo-test-secret-0123456789abcdef0123',
      STRIPE_SECRET_KEY: key,
    },
  });
}

describe('seed:demo and Stripe modes', () => {
  it('refuses a live key before it calls the service or Stripe', () => {
    requireBuild(path.join(ROOT, SEED));
    for (const key of ['sk_live_0123456789abcdef', 'rk_live_0123456789abcdef']) {
      const run = seedWith(key);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/Stripe test mode only \(test clocks\): STRIPE_SECRET_KEY is a live key/);
    }
  });

  it('takes a test key of real Stripe (no emulator) and goes on to the service', () => {
    requireBuild(path.join(ROOT, SEED));
    // Past the mode checks, the first call is the service's (closed here), not Stripe's.
    const run = seedWith('sk_test_0123456789abcdef');
    expect(run.status).not.toBe(0);
    expect(run.stderr).not.toMatch(/live key|needs the Stripe emulator/);
    expect(run.stderr).toMatch(/fetch failed|ECONNREFUSED/);
  });
});
