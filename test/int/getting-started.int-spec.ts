// docs/getting-started.md, run as a reader runs it: every ```bash block of the page, in order, in one bash
// shell, against the real service and the Stripe emulator. Only the first block (the shell: where the
// service and Stripe are, how to get a token) is replaced by this test's own values, and the test checks
// that the page's first block defines the same names. So the guide cannot rot: a renamed field, a changed
// status or a broken step fails here.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../apps/billing-api/src/platform/clock/clock.js';
import { requireBuild } from '../support/built-service.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { TEST_JWT_SECRET } from '../support/test-env.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const GUIDE = path.join(ROOT, 'docs', 'getting-started.md');
const TOKEN = path.join(ROOT, 'dist', 'scripts', 'token.js');

/** A ManualClock that tells the wall clock's time. */
class WallClock extends ManualClock {
  override now(): Date {
    return new Date();
  }
}

/** The guide's bash blocks, in order. */
function bashBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```bash\n([^]*?)^```$/gm)].map((m) => m[1] ?? '');
}

describe('docs/getting-started.md', () => {
  let w: StripeWorld;
  // The success URL of Checkout names the service's public address, known only once it listens.
  const front = new TcpProxy('127.0.0.1', 0);

  beforeAll(async () => {
    requireBuild(TOKEN);
    const port = await front.start(0);
    w = await startStripeWorld({
      env: { CATALOG_SYNC_ON_START: 'true', PUBLIC_BASE_URL: `http://127.0.0.1:${port}` },
      // The service as a reader runs it: its clock moves with Stripe's. Stopped at the start (the test
      // default), the checkout callback's read of the subscription looked older than the webhooks of the
      // same checkout, which then moved the subscription again and made the next quote stale.
      clock: new WallClock(),
    });
    front.forwardTo('127.0.0.1', Number(new URL(w.t.url).port));
  }, 60_000);
  afterAll(async () => {
    await w?.close();
    await front.stop();
  });

  it('runs from a fresh account to a payment, a subscription, an upgrade and a cancellation', async () => {
    const blocks = bashBlocks(readFileSync(GUIDE, 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const [shell, ...steps] = blocks;
    // The page's shell defines what this test's shell defines, nothing the steps need is missing.
    for (const name of ['API=', 'STRIPE=', 'STRIPE_KEY=', 'token()']) expect(shell).toContain(name);
    const ours = [
      `API=${w.t.url}`,
      `STRIPE=${w.kit.emulator.url}`,
      `STRIPE_KEY=${w.key}`,
      `token() { node ${JSON.stringify(TOKEN)} "$@"; }`,
    ].join('\n');

    const { stdout } = await run('bash', ['--norc', '-euo', 'pipefail', '-c', [ours, ...steps].join('\n')], {
      cwd: ROOT,
      timeout: 120_000,
      env: { PATH: process.env.PATH ?? '', JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test' },
    }).catch((error: Error & { stdout?: string; stderr?: string }) => {
      // Say where the page stopped: what it printed up to there, and the failing command's error.
      throw new Error(`the guide stopped.\nprinted:\n${error.stdout}\nerror:\n${error.stderr}`);
    });
    const lines = stdout.trim().split('\n');

    // What the reader is told to expect, in the order the page says it.
    const account = /^account ([0-9a-f-]{36})$/.exec(lines[0] ?? '')?.[1];
    expect(account).toBeDefined();
    const said = lines.join('\n');
    expect(said).toMatch(/^succeeded$/m); // the SetupIntent
    expect(said).toMatch(/"last4":"4242"/);
    expect(said).toMatch(/"number":1\b/); // the payment's receipt, the first of the account
    expect(said).toMatch(/^active$/m); // the checkout callback
    expect(said).toMatch(/^pro active$/m);
    const due = /^due now: (\d+) usd, kind: upgrade$/m.exec(said)?.[1];
    expect(Number(due)).toBeGreaterThan(0);
    expect(said).toMatch(/^business applied$/m);
    expect(said).toMatch(/^business$/m); // the verdict
    expect(said).toMatch(/^canceled_pending: .+/m);
    expect(said).toMatch(/^\d+ invoice\(s\)$/m);

    // And what the service and Stripe hold after it: the upgrade charged exactly the quote.
    const [quote] = await w.t.db.query<Array<{ stripe_invoice_id: string; amount_due_now: string }>>(
      `SELECT stripe_invoice_id, amount_due_now FROM subscription_quotes WHERE account_id = $1 AND status = 'applied'`,
      [account],
    );
    expect(quote).toBeDefined();
    const invoice = await w.stripe.invoices.retrieve(quote?.stripe_invoice_id ?? '');
    expect(invoice.amount_paid).toBe(Number(due));
    expect(Number(quote?.amount_due_now)).toBe(Number(due));
    const [sub] = await w.t.db.query<Array<{ state: string; plan_id: string }>>(
      `SELECT state, plan_id FROM subscriptions WHERE account_id = $1`,
      [account],
    );
    expect(sub).toEqual({ state: 'canceled_pending', plan_id: 'business' });
  }, 180_000);
});
