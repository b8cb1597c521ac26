import { existsSync } from 'node:fs';

/** The compiled service, as operators run it (`npm run build` makes it). */
export const BUILT_MAIN = 'dist/apps/billing-api/src/main.js';

/**
 * For suites that run the compiled service in child processes: a missing build fails them, loudly and
 * with what to do, instead of skipping them (a skipped suite reads as a passed one).
 */
export function requireBuild(main = BUILT_MAIN): void {
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run \`npm run build\` first (npm test builds before the suites)`);
  }
}
