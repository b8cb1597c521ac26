// `npm start`: the one command that runs the service on a fresh machine. It installs what is missing,
// makes PostgreSQL and Redis reachable (Docker Compose, or the machine's own services), builds, starts
// the Stripe emulator when no real Stripe key is configured, and runs api + worker in one process
// (migrations run at start-up).
import { execSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureDatabase } from './lib/databases.mjs';
import { startEmulatorIfWanted } from './lib/emulator.mjs';
import { ensureServices } from './lib/services.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`Usage: npm start   (node scripts/start.mjs)

Runs the service on this machine: installs the dependencies when node_modules is missing, makes
PostgreSQL and Redis answer (docker-compose.dev.yml with a Docker engine, else the machine's own
PostgreSQL cluster and redis-server), builds, starts the Stripe emulator on STRIPE_EMULATOR_PORT (12111)
unless a real Stripe key is configured, and runs the api and the worker in one process (APP_ROLE=all)
on PORT (3000). Settings come from the environment and .env (see .env.example). Ctrl-C stops it all.`);
  process.exit(0);
}
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
try {
  const emulator = await startEmulatorIfWanted(env, log);
  if (emulator) children.push(emulator);
} catch (error) {
  console.error(`[start] ${error.message}`);
  process.exit(1);
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
