// `npm run start:dev`: the service in watch mode (Nest CLI: compile and restart on every change under
// apps/), with the Stripe emulator beside it unless a real Stripe key is configured. PostgreSQL and Redis
// must answer already (`npm start` once, or docker compose -f docker-compose.dev.yml up -d).
import { execSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startEmulatorIfWanted } from './lib/emulator.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`Usage: npm run start:dev   (node scripts/dev.mjs)

Builds, starts the Stripe emulator (port STRIPE_EMULATOR_PORT, 12111) unless STRIPE_SECRET_KEY is a real
key, then runs \`nest start billing-api --watch\` (role all, settings from the environment and .env),
recompiling and restarting on every change. PostgreSQL and Redis must already answer.`);
  process.exit(0);
}
const log = (m) => console.log(`[dev] ${m}`);
if (existsSync('.env')) process.loadEnvFile('.env');
const env = { ...process.env };

execSync('npm run --silent build', { stdio: 'inherit' });
const children = [];
const emulator = await startEmulatorIfWanted(env, log);
if (emulator) children.push(emulator);
const nest = spawn(
  process.execPath,
  ['node_modules/@nestjs/cli/bin/nest.js', 'start', 'billing-api', '--watch'],
  {
    stdio: 'inherit',
    env,
  },
);
children.push(nest);
const stop = (signal) => {
  for (const c of children) if (c.exitCode === null) c.kill(signal);
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
nest.on('exit', (code) => {
  stop('SIGTERM');
  process.exit(code ?? 0);
});
