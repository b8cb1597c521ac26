// A real browser for the suites that must see what a user sees (Swagger UI, Bull Board): Debian's chromium
// driven by playwright-core. When /usr/bin/chromium is missing it is installed with apt-get first (the
// test machine is Debian; a failed install fails the suite, naming the command).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Installs Debian's chromium when it is not there yet; returns its path. */
export function ensureChromium(): string {
  if (fs.existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): void => {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'pipe', env });
  };
  try {
    install();
  } catch {
    // a fresh machine's package lists may be empty or stale
    try {
      execFileSync('apt-get', ['update'], { stdio: 'pipe', env });
      install();
    } catch (e) {
      throw new Error(
        `browser: ${CHROMIUM_PATH} is missing and \`apt-get install -y chromium\` failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  if (!fs.existsSync(CHROMIUM_PATH))
    throw new Error(`browser: apt-get installed chromium but ${CHROMIUM_PATH} is missing`);
  return CHROMIUM_PATH;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches headless chromium with a fresh profile (its own --user-data-dir, removed on close) and nothing
 * that talks to the network by itself (no QUIC, sync, component updates or background requests).
 */
export async function launchBrowser(
  options: { httpCredentials?: { username: string; password: string } } = {},
): Promise<Browser> {
  const executablePath = ensureChromium();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    ...options,
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** This machine's own IPv4 address that is not a loopback one (as a LAN user would reach it). */
export function lanAddress(): string {
  const address = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal && !a.address.startsWith('127.'));
  if (!address) throw new Error('browser: this machine has no non-loopback IPv4 address');
  return address.address;
}
