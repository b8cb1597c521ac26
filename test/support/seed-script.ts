import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StripeWorld } from './stripe-world.js';
import { TEST_JWT_SECRET } from './test-env.js';

const run = promisify(execFile);

/** The built seed script `dist/scripts/<name>.js` (tests check it exists with `requireBuild`). */
export const seedScript = (name: string): string =>
  path.resolve(import.meta.dirname, '..', '..', 'dist', 'scripts', `${name}.js`);

/**
 * Runs a seed as a user does, in its own process (the test's process keeps serving the app and the
 * emulator), against the world's service and emulator; returns what it printed.
 */
export async function runSeed(w: StripeWorld, script: string, timeoutMs = 120_000): Promise<string> {
  const { stdout } = await run(process.execPath, [script], {
    cwd: path.dirname(script),
    timeout: timeoutMs,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      SEED_API_URL: w.t.url,
      JWT_SECRET: TEST_JWT_SECRET,
      STRIPE_SECRET_KEY: w.key,
      STRIPE_API_BASE: w.kit.emulator.url,
    },
  });
  return stdout;
}
