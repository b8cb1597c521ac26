// The API document as the compiled service serves it (`/docs-json`), for openapi-lint.mjs and
// guard-types.mjs: plain JavaScript, run after `npm run build`, outside Jest.
import { spawn } from 'node:child_process';
import { ensureDatabase } from './databases.mjs';

const MAIN = 'dist/apps/billing-api/src/main.js';

/**
 * Starts the compiled api (APP_ROLE=api, a random port) on the database `databaseName` beside
 * TEST_DATABASE_URL (created when missing) and Redis TEST_REDIS_URL, reads `/docs-json`, stops it.
 */
export async function fetchApiDocument(databaseName) {
  const databaseUrl = process.env.TEST_DATABASE_URL
    ? process.env.TEST_DATABASE_URL.replace(/\/[^/]+$/, `/${databaseName}`)
    : `postgres://postgres@127.0.0.1:5432/${databaseName}`;
  await ensureDatabase(databaseUrl);
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      APP_ROLE: 'api',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/2',
      QUEUE_PREFIX: `openapi-${process.pid}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
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
    return await response.text();
  } finally {
    child.kill('SIGTERM');
  }
}
