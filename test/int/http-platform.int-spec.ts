import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';

interface ErrorBody {
  error: { code: string; message: string; param?: string; request_id: string };
}
interface AccountBody {
  id: string;
  name: string;
  billingEmail: string;
  timeZone: string;
}

describe('HTTP platform: errors, auth, scoping, card data, correlation ids, docs', () => {
  let t: TestApp;
  let admin: string;
  let account: AccountBody;
  let other: AccountBody;

  const create = async (name: string): Promise<AccountBody> => {
    const r = await http<AccountBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        name,
        billingEmail: 'billing@acme.test',
        timeZone: 'America/New_York',
        owner: { userId: `u-${randomUUID()}`, email: 'o@acme.test' },
      },
    });
    expect(r.status).toBe(201);
    return r.body;
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
    account = await create(`Acme ${randomUUID()}`);
    other = await create(`Other ${randomUUID()}`);
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers unknown routes with the one error shape and a request id', async () => {
    const r = await http<ErrorBody>(t.url, 'GET', '/v1/nope', { token: admin });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
    expect(r.body.error.request_id).toBe(r.headers.get('x-request-id'));
  });

  it('echoes a caller-supplied x-request-id and stores it as the correlation id of the audit record', async () => {
    const correlationId = `test-${randomUUID()}`;
    const owner = await tokenFor({ sub: 'owner-a', role: 'owner', accountId: account.id });
    const r = await http<AccountBody>(t.url, 'PATCH', `/v1/accounts/${account.id}`, {
      token: owner,
      body: { timeZone: 'Europe/Berlin' },
      headers: { 'x-request-id': correlationId },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe(correlationId);
    const rows = await t.db.query<
      { action: string; actor_type: string; actor_id: string; before: unknown; after: unknown }[]
    >(`SELECT action, actor_type, actor_id, before, after FROM audit_log WHERE correlation_id = $1`, [
      correlationId,
    ]);
    expect(rows).toEqual([
      {
        action: 'account.settings_updated',
        actor_type: 'user',
        actor_id: 'owner-a',
        before: { timeZone: 'America/New_York' },
        after: { timeZone: 'Europe/Berlin' },
      },
    ]);
  });

  it('replaces a malformed x-request-id with a fresh one', async () => {
    const r = await http(t.url, 'GET', '/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses missing, forged and expired tokens with 401 unauthenticated', async () => {
    expect((await http<ErrorBody>(t.url, 'GET', `/v1/accounts/${account.id}`)).body.error.code).toBe(
      'unauthenticated',
    );
    const forged = await tokenFor({ sub: 'x', role: 'admin' }, 'another-secret-of-at-least-32-characters!!');
    const r = await http<ErrorBody>(t.url, 'GET', `/v1/accounts/${account.id}`, { token: forged });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthenticated');
  });

  it('refuses a role the route does not allow with 403 forbidden', async () => {
    const member = await tokenFor({ sub: 'm', role: 'member', accountId: account.id });
    const r = await http<ErrorBody>(t.url, 'PATCH', `/v1/accounts/${account.id}`, {
      token: member,
      body: { name: 'x' },
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('forbidden');
    const owner = await tokenFor({ sub: 'o', role: 'owner', accountId: account.id });
    expect((await http(t.url, 'POST', '/v1/admin/accounts', { token: owner, body: {} })).status).toBe(403);
  });

  it("reports another account's resources as 404, never 200 or 403", async () => {
    const owner = await tokenFor({ sub: 'o', role: 'owner', accountId: account.id });
    for (const [method, path] of [
      ['GET', `/v1/accounts/${other.id}`],
      ['PATCH', `/v1/accounts/${other.id}`],
      ['GET', `/v1/accounts/${other.id}/members`],
      ['GET', `/v1/accounts/${other.id}/audit-log`],
    ] as const) {
      const r = await http<ErrorBody>(t.url, method, path, {
        token: owner,
        ...(method === 'PATCH' ? { body: { name: 'pwned' } } : {}),
      });
      expect([path, r.status, r.body.error.code]).toEqual([path, 404, 'not_found']);
    }
    const still = await http<AccountBody>(t.url, 'GET', `/v1/accounts/${other.id}`, { token: admin });
    expect(still.body.name).toBe(other.name);
  });

  it('lets internal roles read any account', async () => {
    const finance = await tokenFor({ sub: 'f', role: 'finance' });
    const r = await http<AccountBody>(t.url, 'GET', `/v1/accounts/${other.id}`, { token: finance });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(other.id);
  });

  it.each([
    [{ name: 'ok', unexpected: 1 }, 'unexpected'],
    [{ billingEmail: 'not-an-email' }, 'billingEmail'],
    [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ locale: 'not a locale!' }, 'locale'],
    [{ name: 42 }, 'name'],
  ])(
    'answers bad input %p with 400 validation_failed naming %p, and changes nothing',
    async (body, param) => {
      const owner = await tokenFor({ sub: 'o', role: 'owner', accountId: account.id });
      const before = await http<AccountBody>(t.url, 'GET', `/v1/accounts/${account.id}`, { token: admin });
      const r = await http<ErrorBody>(t.url, 'PATCH', `/v1/accounts/${account.id}`, { token: owner, body });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('validation_failed');
      expect(r.body.error.param).toBe(param);
      const after = await http<AccountBody>(t.url, 'GET', `/v1/accounts/${account.id}`, { token: admin });
      expect(after.body).toEqual(before.body);
    },
  );

  it('answers unparsable JSON with 400 in the error shape', async () => {
    const response = await fetch(`${t.url}/v1/accounts/${account.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: '{"name":',
    });
    const body = (await response.json()) as ErrorBody;
    expect(response.status).toBe(400);
    expect(body.error.code).toBe('validation_failed');
  });

  it('rejects anything that looks like a card number (R-CORE-6) before it is handled or stored', async () => {
    const name = `Card ${randomUUID()}`;
    const r = await http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        name,
        billingEmail: 'b@acme.test',
        owner: { userId: '4242 4242 4242 4242', email: 'o@acme.test' },
      },
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'card_data_forbidden', param: 'owner.userId' });
    expect(JSON.stringify(r.body)).not.toContain('4242');
    const rows = await t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM accounts WHERE name = $1`,
      [name],
    );
    expect(rows[0]?.n).toBe(0);
    const q = await http<ErrorBody>(t.url, 'GET', '/v1/admin/accounts?cursor=4000000000000002', {
      token: admin,
    });
    expect(q.body.error.code).toBe('card_data_forbidden');
  });

  it('sends security headers', async () => {
    const r = await http(t.url, 'GET', '/health');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    // Helmet's whole set, on a success, an error and a 404 alike (computed once at start-up).
    const expected = {
      'content-security-policy':
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self' 'unsafe-inline';script-src-attr 'none';style-src 'self' 'unsafe-inline'",
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'SAMEORIGIN',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    };
    const unauthenticated = await http(t.url, 'GET', '/v1/admin/accounts');
    const missing = await http(t.url, 'GET', '/v1/no-such-route');
    expect([unauthenticated.status, missing.status]).toEqual([401, 404]);
    for (const response of [r, unauthenticated, missing]) {
      const helmetHeaders = Object.fromEntries(
        [...response.headers].filter(([name]) => name in expected || name === 'x-powered-by'),
      );
      expect(helmetHeaders).toEqual(expected);
    }
  });

  it('serves Swagger UI at /docs and the document at /docs-json with bearer auth and every route', async () => {
    const ui = await fetch(`${t.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
    const doc = await http<{
      components: { securitySchemes: Record<string, { scheme: string }> };
      paths: Record<string, unknown>;
    }>(t.url, 'GET', '/docs-json');
    expect(doc.body.components.securitySchemes.bearer?.scheme).toBe('bearer');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/health/ready',
        '/v1/admin/accounts',
        '/v1/accounts/{accountId}',
        '/v1/accounts/{accountId}/audit-log',
      ]),
    );
  });

  it('pages through accounts with a stable cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: {
        status: number;
        body: { data: AccountBody[]; has_more: boolean; next_cursor: string | null };
      } = await http(t.url, 'GET', `/v1/admin/accounts?limit=1${cursor ? `&cursor=${cursor}` : ''}`, {
        token: admin,
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((a) => a.id));
      cursor = page.body.next_cursor;
    } while (cursor && seen.length < 1000);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining([account.id, other.id]));
    const bad = await http<ErrorBody>(t.url, 'GET', '/v1/admin/accounts?limit=101', { token: admin });
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', param: 'limit' });
  });

  it('keeps the audit log append-only at the database level', async () => {
    await expect(t.db.query(`UPDATE audit_log SET action = 'tampered'`)).rejects.toThrow(/append-only/);
    await expect(t.db.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
  });
});

describe('rate limiting shared through Redis (R-API-6)', () => {
  /**
   * The limits count in fixed windows of the wall clock's minutes: requests that cross into the next
   * window get a new budget. Each test starts its requests at least 15 s before the window ends (it
   * needs a few), waiting for the next window's start when less is left (hence their longer timeout).
   */
  async function withinOneWindow(): Promise<void> {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
  }

  it('counts requests of one account across two api instances and answers 429 rate_limited past the limit', async () => {
    const env = { RATE_LIMIT_ACCOUNT_PER_MINUTE: '6', RATE_LIMIT_IP_PER_MINUTE: '100000' };
    const [a, b] = await Promise.all([
      startTestApp({ env, role: 'api' }),
      startTestApp({ env, role: 'api' }),
    ]);
    try {
      const token = await tokenFor({ sub: 'rl', role: 'member', accountId: randomUUID() });
      await withinOneWindow();
      const responses = [];
      for (let i = 0; i < 8; i++) {
        responses.push(
          await http<ErrorBody>(i % 2 === 0 ? a.url : b.url, 'GET', '/v1/admin/accounts', { token }),
        );
      }
      // A member may not list accounts (403), but every request counts against the account's budget.
      expect(responses.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403, 429, 429]);
      expect(responses.slice(6).map((r) => r.body.error.code)).toEqual(['rate_limited', 'rate_limited']);
      expect(Number(responses[7]?.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);

  it('admits exactly the limit across two api instances when each decides from its own reserve', async () => {
    // 300 a minute: each instance reserves up to 4 at a time (1/64 of what is left) and answers from them.
    const env = { RATE_LIMIT_ACCOUNT_PER_MINUTE: '300', RATE_LIMIT_IP_PER_MINUTE: '100000' };
    const [a, b] = await Promise.all([
      startTestApp({ env, role: 'api' }),
      startTestApp({ env, role: 'api' }),
    ]);
    try {
      const token = await tokenFor({ sub: 'rl-lease', role: 'member', accountId: randomUUID() });
      const statuses: number[] = [];
      const refused = { a: false, b: false };
      await withinOneWindow();
      // Bursts of 20 concurrent requests, alternately on each instance, until both have refused.
      for (let round = 0; !(refused.a && refused.b) && round < 40; round++) {
        const url = round % 2 === 0 ? a.url : b.url;
        const burst = await Promise.all(
          Array.from({ length: 20 }, () => http(url, 'GET', '/v1/admin/accounts', { token })),
        );
        statuses.push(...burst.map((r) => r.status));
        if (burst.some((r) => r.status === 429)) refused[round % 2 === 0 ? 'a' : 'b'] = true;
      }
      expect(refused).toEqual({ a: true, b: true });
      expect(statuses.filter((s) => s === 403)).toHaveLength(300);
      expect(statuses.filter((s) => s !== 403 && s !== 429)).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});

describe('CORS from configuration (R-API-6)', () => {
  it('answers preflights for configured origins only and exposes the correlation header', async () => {
    const t = await startTestApp({ role: 'api', env: { CORS_ORIGINS: 'https://app.example.com' } });
    try {
      const preflight = (origin: string): Promise<Response> =>
        fetch(`${t.url}/v1/admin/accounts`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,idempotency-key',
          },
        });
      const allowed = await preflight('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const other = await preflight('https://evil.example.com');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const simple = await fetch(`${t.url}/health`, { headers: { origin: 'https://app.example.com' } });
      expect(simple.headers.get('access-control-expose-headers')).toContain('x-request-id');
    } finally {
      await t.close();
    }
  });
});
