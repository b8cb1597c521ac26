// `npm run openapi:lint`: the API document as the compiled service serves it (`/docs-json`), linted by
// Redocly's maintained linter with the rules of redocly.yaml; zero errors or the step fails (issue 16).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchApiDocument } from './lib/api-document.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`Usage: npm run openapi:lint   (after npm run build)

Starts the compiled api (database billing_openapi beside TEST_DATABASE_URL, Redis TEST_REDIS_URL), reads the
API document it serves at /docs-json and lints it with Redocly (@redocly/cli) under redocly.yaml. Exits 1 on
any error.`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
let status = 1;
try {
  const document = await fetchApiDocument('billing_openapi');
  const file = join(dir, 'openapi.json');
  writeFileSync(file, document);
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
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
