import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { QUEUES } from '../../apps/billing-api/src/platform/queue/queue.registry.js';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('Bull Board at /admin/queues (R-OPS-4), behind admin auth', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await tokenFor({ sub: 'admin-board', role: 'admin' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks a browser for credentials without a token, and refuses a bad token with the same challenge', async () => {
    for (const authorization of [undefined, 'Bearer not-a-jwt', basic('ops', 'not-a-jwt'), 'Digest x']) {
      const res = await http<{ error: { code: string } }>(t.url, 'GET', '/admin/queues', {
        headers: authorization ? { authorization } : {},
      });
      expect({ authorization, status: res.status, code: res.body.error.code }).toEqual({
        authorization,
        status: 401,
        code: 'unauthenticated',
      });
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Billing queues", charset="UTF-8"');
    }
  });

  it('refuses every role but admin, for the page and for its API', async () => {
    for (const role of ['owner', 'member', 'finance', 'support'] as const) {
      const token = await tokenFor({ sub: `${role}-board`, role, accountId: randomUUID() });
      for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
        const res = await http<{ error: { code: string } }>(t.url, 'GET', path, { token });
        expect({ role, path, status: res.status, code: res.body.error.code }).toEqual({
          role,
          path,
          status: 403,
          code: 'forbidden',
        });
      }
    }
  });

  it('serves the board to an admin (Bearer, or the JWT as the Basic password) with every queue of the registry', async () => {
    const page = await fetch(`${t.url}/admin/queues`, { headers: { authorization: `Bearer ${admin}` } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    // The page's own script and style come from under the board's path (its <base>), behind the same check.
    expect(html).toContain('<base href="/admin/queues/"');
    const asset = /(?:src|href)="(static\/[^"]+)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const url = `${t.url}/admin/queues/${asset}`;
    expect((await fetch(url, { headers: { authorization: basic('ops', admin) } })).status).toBe(200);
    expect((await fetch(url)).status).toBe(401);

    const api = await http<{ queues: { name: string }[] }>(t.url, 'GET', '/admin/queues/api/queues', {
      headers: { authorization: basic('ops', admin) },
    });
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q) => q.name).sort()).toEqual(Object.values(QUEUES).sort());
  });
});
