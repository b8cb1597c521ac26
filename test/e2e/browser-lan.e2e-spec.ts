// Swagger UI (/docs) and Bull Board (/admin/queues) in a real browser, reached over plain HTTP on this
// machine's LAN address, as an operator on another machine would open them. A security header that makes
// the browser upgrade the pages' assets to https (helmet's default `upgrade-insecure-requests`) leaves
// both pages blank there, though they work on localhost.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobQueue } from '../../apps/billing-api/src/platform/queue/job-queue.js';
import { DROP_URL_CREDENTIALS } from '../../apps/billing-api/src/platform/queue/queue-board.js';
import { lanAddress, launchBrowser, type Browser } from '../support/browser.js';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app.js';

let t: TestApp;
let browser: Browser;
let base: string;
let adminToken: string;

beforeAll(async () => {
  t = await startTestApp({ host: '0.0.0.0' });
  base = `http://${lanAddress()}:${new URL(t.url).port}`;
  adminToken = await tokenFor({ sub: 'ops', role: 'admin' });
  browser = await launchBrowser({ httpCredentials: { username: 'admin', password: adminToken } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('over plain HTTP on a LAN address', () => {
  it('the security headers do not ask the browser to upgrade requests to https', async () => {
    const res = await fetch(`${base}/docs`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('Swagger UI lists the operations', async () => {
    const page = await browser.context.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    await page.goto(`${base}/docs`);
    const operations = page.locator('.opblock-summary-path');
    await operations.first().waitFor({ timeout: 30_000 });
    const paths = await operations.allTextContents();
    expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(
      expect.arrayContaining(['/v1/payments', '/health']),
    );
    expect(failed).toEqual([]);
    await page.close();
  });

  it('Try it out on GET /v1/payments starts with every filter blank (examples are in the descriptions)', async () => {
    const doc = (await (await fetch(`${base}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<Record<string, unknown>> }>>;
    };
    const withExample = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.entries(item).flatMap(([verb, op]) =>
        (op.parameters ?? [])
          .filter((q) => q['in'] === 'query')
          .filter(
            (q) =>
              q['example'] !== undefined ||
              (q['schema'] as Record<string, unknown>)?.['example'] !== undefined,
          )
          .map((q) => `${verb} ${p} ${String(q['name'])}`),
      ),
    );
    expect(withExample).toEqual([]);
    const currency = doc.paths['/v1/payments']?.['get']?.parameters?.find((q) => q['name'] === 'currency');
    expect(currency?.['description']).toContain('e.g. `usd`');

    const page = await browser.context.newPage();
    await page.goto(`${base}/docs#/`);
    const operation = page.locator('.opblock-get', {
      has: page.locator('.opblock-summary-path', { hasText: /^\/v1\/payments$/ }),
    });
    await operation.locator('.opblock-summary').first().click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    const inputs = operation.locator('.parameters input[type=text]');
    await inputs.first().waitFor();
    expect(await inputs.count()).toBeGreaterThan(3);
    const filled: Record<string, string> = {};
    for (const input of await inputs.all()) {
      const value = await input.inputValue();
      if (value !== '') filled[(await input.getAttribute('placeholder')) ?? '?'] = value;
    }
    // only the page size, at the server's own default
    expect(filled).toEqual({ limit: '20' });
    await page.close();
  });

  it('Bull Board shows the queues to an admin (the token as the Basic password)', async () => {
    const names = t.app
      .get(JobQueue)
      .all()
      .map((q) => q.name);
    const page = await browser.context.newPage();
    await page.goto(`${base}/admin/queues`);
    await page
      .getByText(names[0] as string, { exact: true })
      .first()
      .waitFor({ timeout: 30_000 });
    const text = await page.locator('body').innerText();
    for (const name of names) expect(text).toContain(name);
    await page.close();
  });

  it('Bull Board loads with the token in the URL (http://admin:<token>@host/admin/queues)', async () => {
    const name = t.app.get(JobQueue).all()[0]?.name as string;
    const own = await launchBrowser(); // no stored credentials: only the URL's
    try {
      const page = await own.context.newPage();
      const { host } = new URL(base);
      await page.goto(`http://admin:${adminToken}@${host}/admin/queues`);
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 30_000 });
      // the page runs without the credentials in its own address (fetch() refuses URLs that hold them)
      expect(new URL(String(await page.evaluate('location.href'))).password).toBe('');
      const html = await (
        await fetch(`${base}/admin/queues`, { headers: { authorization: `Bearer ${adminToken}` } })
      ).text();
      expect(html).toContain(`<script>${DROP_URL_CREDENTIALS}</script>`);
    } finally {
      await own.close();
    }
  });
});
