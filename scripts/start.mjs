// `npm start`: the one command that runs the service on a fresh machine. It installs what is missing,
// makes PostgreSQL and Redis reachable (Docker Compose, or the machine's own services), builds, starts
// the Stripe emulator when no real Stripe key is configured, and runs api + worker in one process
// (migrations run at start-up).
import { execSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureDatabase } from './lib/databases.mjs';
import { ensureServices, reachable, waitFor } from './lib/services.mjs';

const log = (m) => console.log(`[start] ${m}`);
if (!existsSync('node_modules')) {
  log('installing dependencies ...');
  try {
    execSync('npm ci', { stdio: 'inherit' });
  } catch {
    // A registry without other platforms' optional binaries makes npm ci refuse the lockfile.
    execSync('npm install --no-save', { stdio: 'inherit' });
  }
}
if (existsSync('.env')) process.loadEnvFile('.env');

const env = { ...process.env };
env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/billing';
env.REDIS_URL ??= 'redis://127.0.0.1:6379';
env.APP_ROLE ??= 'all';

const problems = await ensureServices({ databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL, log });
if (problems.length > 0) {
  for (const p of problems) console.error(`[start] ${p}`);
  process.exit(1);
}
await ensureDatabase(env.DATABASE_URL);

log('building ...');
execSync('npm run --silent build', { stdio: 'inherit' });

const children = [];
const realStripe =
  /^(sk|rk)_(live|test)_/.test(env.STRIPE_SECRET_KEY ?? '') &&
  !env.STRIPE_SECRET_KEY.startsWith('sk_test_emulator');
const emulatorMain = 'dist/apps/stripe-emulator/src/main.js';
if (!realStripe && !env.STRIPE_API_BASE && existsSync(emulatorMain)) {
  const port = Number(env.STRIPE_EMULATOR_PORT ?? 12111);
  const appPort = Number(env.PORT ?? 3000);
  const webhookSecret = (env.STRIPE_WEBHOOK_SECRETS ?? 'whsec_dev_emulator_secret').split(',')[0].trim();
  log(`no real Stripe key configured: starting the Stripe emulator on port ${port}`);
  const emulator = spawn(process.execPath, [emulatorMain], {
    stdio: 'inherit',
    env: {
      ...env,
      STRIPE_EMULATOR_PORT: String(port),
      STRIPE_EMULATOR_WEBHOOK_URL:
        env.STRIPE_EMULATOR_WEBHOOK_URL ?? `http://127.0.0.1:${appPort}/webhooks/stripe`,
      STRIPE_EMULATOR_WEBHOOK_SECRET: webhookSecret,
    },
  });
  children.push(emulator);
  if (!(await waitFor(() => reachable('127.0.0.1', port), { timeoutMs: 10000 }))) {
    console.error('[start] the Stripe emulator did not start');
    emulator.kill();
    process.exit(1);
  }
  env.STRIPE_API_BASE = `http://127.0.0.1:${port}`;
  env.STRIPE_SECRET_KEY ??= 'sk_test_emulator_dev';
  env.STRIPE_WEBHOOK_SECRETS ??= webhookSecret;
} else if (realStripe) {
  log('using the Stripe account of STRIPE_SECRET_KEY');
}

// The V8 flags of the Dockerfile's NODE_OPTIONS (scripts/bench/service-node-args.ts says why).
const app = spawn(process.execPath, ['--max-semi-space-size=64', 'dist/apps/billing-api/src/main.js'], {
  stdio: 'inherit',
  env,
});
children.push(app);
const stop = (signal) => {
  for (const c of children) if (c.exitCode === null) c.kill(signal);
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
app.on('exit', (code) => {
  stop('SIGTERM');
  process.exit(code ?? 0);
});
