// `npm run openapi:lint`: the API document as the compiled service serves it (`/docs-json`), linted by
// Redocly's maintained linter with the rules of redocly.yaml; zero errors or the step fails (issue 16).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase } from './lib/databases.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`Usage: npm run openapi:lint   (after npm run build)

Starts the compiled api (database billing_openapi beside TEST_DATABASE_URL, Redis TEST_REDIS_URL), reads the
API document it serves at /docs-json and lints it with Redocly (@redocly/cli) under redocly.yaml. Exits 1 on
any error.`);
  process.exit(0);
}

const MAIN = 'dist/apps/billing-api/src/main.js';
const DATABASE_URL = process.env.TEST_DATABASE_URL
  ? process.env.TEST_DATABASE_URL.replace(/\/[^/]+$/, '/billing_openapi')
  : 'postgres://postgres@127.0.0.1:5432/billing_openapi';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/2';

await ensureDatabase(DATABASE_URL);
const child = spawn(process.execPath, [MAIN], {
  env: {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    APP_ROLE: 'api',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX: `openapi-${process.pid}`,
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
let status = 1;
try {
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${output}`)), 60_000);
    const onData = (d) => {
      output += d;
      const found = /listening on (http:\/\/\S+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1].replace('[::1]', '127.0.0.1'));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`the service exited (${code}):\n${output}`)));
  });
  const response = await fetch(`${url}/docs-json`);
  if (response.status !== 200) throw new Error(`/docs-json answered ${response.status}`);
  const file = join(dir, 'openapi.json');
  writeFileSync(file, await response.text());
  const lint = spawnSync(
    process.execPath,
    ['node_modules/@redocly/cli/bin/cli.js', 'lint', file, '--config', 'redocly.yaml'],
    {
      stdio: 'inherit',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  status = lint.status ?? 1;
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
