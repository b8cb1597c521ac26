// The Stripe emulator for `npm start` and `npm run start:dev`: started as a child process when no real
// Stripe key is configured and STRIPE_API_BASE does not point elsewhere; the service is pointed at it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { reachable, waitFor } from './services.mjs';

export const EMULATOR_MAIN = 'dist/apps/stripe-emulator/src/main.js';

/** True when STRIPE_SECRET_KEY is a real Stripe key (not the emulator's). */
export function usesRealStripe(env) {
  const key = env.STRIPE_SECRET_KEY ?? '';
  return /^(sk|rk)_(live|test)_/.test(key) && !key.startsWith('sk_test_emulator');
}

/**
 * Starts the emulator on STRIPE_EMULATOR_PORT (12111) unless a real key is set, STRIPE_API_BASE names
 * another server, or one already answers there. Mutates `env` so that the service calls it and trusts its
 * webhooks. Returns the child process (or null) and throws when it does not come up.
 */
export async function startEmulatorIfWanted(env, log) {
  if (usesRealStripe(env)) {
    log('using the Stripe account of STRIPE_SECRET_KEY');
    return null;
  }
  const port = Number(env.STRIPE_EMULATOR_PORT || 12111);
  const local = `http://127.0.0.1:${port}`;
  if (env.STRIPE_API_BASE && !['127.0.0.1', 'localhost'].includes(new URL(env.STRIPE_API_BASE).hostname))
    return null;
  env.STRIPE_API_BASE ||= local;
  env.STRIPE_SECRET_KEY ||= 'sk_test_emulator_dev';
  const webhookSecret = (env.STRIPE_WEBHOOK_SECRETS || 'whsec_dev_emulator_secret').split(',')[0].trim();
  env.STRIPE_WEBHOOK_SECRETS ||= webhookSecret;
  if (await reachable('127.0.0.1', port)) {
    log(`a Stripe emulator already answers on port ${port}`);
    return null;
  }
  if (!existsSync(EMULATOR_MAIN)) throw new Error(`${EMULATOR_MAIN} is missing: run npm run build`);
  const appPort = Number(env.PORT || 3000);
  log(`no real Stripe key configured: starting the Stripe emulator on port ${port}`);
  const emulator = spawn(process.execPath, [EMULATOR_MAIN], {
    stdio: 'inherit',
    env: {
      ...env,
      STRIPE_EMULATOR_PORT: String(port),
      STRIPE_EMULATOR_WEBHOOK_URL:
        env.STRIPE_EMULATOR_WEBHOOK_URL || `http://127.0.0.1:${appPort}/webhooks/stripe`,
      STRIPE_EMULATOR_WEBHOOK_SECRET: webhookSecret,
    },
  });
  if (!(await waitFor(() => reachable('127.0.0.1', port), { timeoutMs: 10000 }))) {
    emulator.kill();
    throw new Error('the Stripe emulator did not start');
  }
  return emulator;
}
