import { existsSync } from 'node:fs';
import { optionsFromEnv, startEmulator } from './server.js';

// `npm run emulator` reads .env as the service does (STRIPE_EMULATOR_*; what is already set wins).
if (existsSync('.env')) process.loadEnvFile('.env');

/** Standalone entry: `npm run emulator`. */
async function main(): Promise<void> {
  const started = Date.now();
  const options = optionsFromEnv();
  options.log ??= false;
  const emulator = await startEmulator(options);
  process.stdout.write(
    `[stripe-emulator] listening on ${emulator.url} (API /v1, admin /_emulator) in ${Date.now() - started} ms\n`,
  );
  if (options.webhookUrl) {
    process.stdout.write(
      `[stripe-emulator] delivering every event to ${options.webhookUrl} signed with ${emulator.webhookSecret ?? ''}\n`,
    );
  }
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `[stripe-emulator] failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
