import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { launchBrowser, type Browser } from '../support/browser.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { http } from '../support/test-app.js';
import { accountWithCustomer, startPaymentsWorld, type PaymentsWorld } from '../int/payments-support.js';

// R-SUB-1/2 as a customer lives it: a real browser (Debian's chromium through playwright-core) opens the
// Checkout URL our API returns, pays on the emulator's hosted page, follows Stripe's redirect to our
// success callback, and the subscription is active through our API.
describe('checkout in a real browser: our URL, the hosted page, the success callback', () => {
  let w: PaymentsWorld;
  let browser: Browser;
  // The success URL names the service's public address, known only once it listens: a proxy holds one.
  const front = new TcpProxy('127.0.0.1', 0);

  beforeAll(async () => {
    const port = await front.start(0);
    w = await startPaymentsWorld({
      CATALOG_SYNC_ON_START: 'true',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    });
    front.forwardTo('127.0.0.1', Number(new URL(w.t.url).port));
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await w?.close();
    await front.stop();
  });

  it('pays a Pro subscription with two extra seats and lands on the callback with it active', async () => {
    const a = await accountWithCustomer(w);
    const checkout = await http<{ url: string; sessionId: string }>(
      w.t.url,
      'POST',
      '/v1/subscription/checkout',
      {
        token: a.owner,
        headers: { 'idempotency-key': randomUUID() },
        body: { plan: 'pro', interval: 'month', seats: 2 },
      },
    );
    expect(checkout.status).toBe(200);

    const page = await browser.context.newPage();
    await page.goto(checkout.body.url);
    // The hosted page shows what is bought, per month.
    await expect(page.locator('body').innerText()).resolves.toMatch(/month/i);
    await Promise.all([
      page.waitForURL(/\/v1\/subscription\/checkout\/complete\?session_id=/),
      page.locator('button[type=submit]').click(),
    ]);
    const landed = JSON.parse(await page.locator('body').innerText()) as Record<string, unknown>;
    expect(landed).toEqual({
      sessionId: checkout.body.sessionId,
      status: 'complete',
      state: 'active',
      planId: 'pro',
    });

    const view = await http<{ state: string; plan: { id: string }; seats: { purchased: number } }>(
      w.t.url,
      'GET',
      '/v1/subscription',
      { token: a.owner },
    );
    expect(view.body).toMatchObject({ state: 'active', plan: { id: 'pro' }, seats: { purchased: 2 } });
  }, 60_000);
});
