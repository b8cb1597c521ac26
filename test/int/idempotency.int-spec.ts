import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { requestFingerprint } from '../../apps/billing-api/src/platform/idempotency/canonical-json.js';
import { IdempotencyStore } from '../../apps/billing-api/src/platform/idempotency/idempotency.store.js';
import { JobQueue } from '../../apps/billing-api/src/platform/queue/job-queue.js';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';

interface AccountBody {
  id: string;
  name: string;
}
interface ErrorBody {
  error: { code: string; message: string; param?: string; request_id: string };
}

const HOUR = 3_600_000;

describe('Idempotency-Key on mutating routes (R-API-5)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
  });
  afterAll(async () => {
    await t.close();
  });

  const createBody = (name: string): Record<string, unknown> => ({
    name,
    billingEmail: 'billing@example.test',
    owner: { userId: `owner-${randomUUID()}`, email: 'owner@example.test' },
  });
  const countAccounts = async (name: string): Promise<number> =>
    Number(
      (
        await t.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM accounts WHERE name = $1`, [name])
      )[0]?.n,
    );

  it('executes 50 concurrent identical requests exactly once and answers all of them alike', async () => {
    const key = randomUUID();
    const name = `Concurrent ${key}`;
    const body = createBody(name);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        http<AccountBody>(t.url, 'POST', '/v1/admin/accounts', {
          token: admin,
          body,
          headers: { 'idempotency-key': key },
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 201));
    const ids = new Set(responses.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(await countAccounts(name)).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(49);
    const audits = await t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'account.created' AND entity_id = $1`,
      [[...ids][0]],
    );
    expect(audits[0]?.n).toBe(1);
  });

  it('answers 409 idempotency_key_reused for the same key with another body, and changes nothing', async () => {
    const key = randomUUID();
    const first = await http<AccountBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body: createBody(`First ${key}`),
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    const second = await http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body: createBody(`Second ${key}`),
      headers: { 'idempotency-key': key },
    });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('idempotency_key_reused');
    expect(await countAccounts(`Second ${key}`)).toBe(0);
  });

  it('requires the key where the route says so', async () => {
    const name = `No key ${randomUUID()}`;
    const response = await http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body: createBody(name),
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'idempotency_key_required', param: 'Idempotency-Key' });
    expect(await countAccounts(name)).toBe(0);
  });

  it('rejects malformed keys', async () => {
    const response = await http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body: createBody('x'),
      headers: { 'idempotency-key': 'x'.repeat(256) },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('idempotency_key_invalid');
  });

  it('keeps no refusal made before executing: a 400 is not replayed, and the corrected request runs with the same key', async () => {
    const key = randomUUID();
    const bad = { name: '', billingEmail: 'not-an-email', owner: { userId: 'u', email: 'u@example.test' } };
    const first = await http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body: bad,
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(400);
    const again = await http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body: bad,
      headers: { 'idempotency-key': key },
    });
    expect(again.status).toBe(400);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    const name = `Corrected ${key}`;
    const fixed = await http<AccountBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body: createBody(name),
      headers: { 'idempotency-key': key },
    });
    expect(fixed.status).toBe(201);
    expect(await countAccounts(name)).toBe(1);
  });

  it('never runs a request again whose claim a crash left: 409 idempotency_key_in_use after the lock timeout', async () => {
    const key = randomUUID();
    const body = createBody(`Crashed ${key}`);
    const now = t.clock.now();
    await t.db.query(
      `INSERT INTO idempotency_keys (scope, key, method, path, request_hash, status, locked_at, created_at, expires_at)
       VALUES ('user:admin-1', $1, 'POST', '/v1/admin/accounts', $2, 'in_progress', $3, $3, $4)`,
      [
        key,
        requestFingerprint('POST', '/v1/admin/accounts', body),
        new Date(now.getTime() - 61_000),
        new Date(now.getTime() + HOUR),
      ],
    );
    const retry = await http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body,
      headers: { 'idempotency-key': key },
    });
    expect([retry.status, retry.body.error.code]).toEqual([409, 'idempotency_key_in_use']);
    expect(await countAccounts(`Crashed ${key}`)).toBe(0);
  });

  it('an answer that cannot be stored after the request executed: never run again (409 idempotency_key_in_use)', async () => {
    await t.db.query(`CREATE SEQUENCE IF NOT EXISTS store_fault_once`);
    await t.db.query(`
      CREATE OR REPLACE FUNCTION inject_store_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'completed' AND NEW.key LIKE 'fault-store-%' THEN
          IF nextval('store_fault_once') = 1 THEN RAISE EXCEPTION 'injected: answer not stored'; END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await t.db.query(`CREATE OR REPLACE TRIGGER inject_store_fault BEFORE UPDATE ON idempotency_keys
      FOR EACH ROW EXECUTE FUNCTION inject_store_fault()`);
    const started = t.clock.now();
    try {
      const key = `fault-store-${randomUUID()}`;
      const name = `Unanswered ${key}`;
      const body = createBody(name);
      const send = () =>
        http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
          token: admin,
          body,
          headers: { 'idempotency-key': key },
        });
      expect((await send()).status).toBe(500);
      expect(await countAccounts(name)).toBe(1);
      t.clock.advance(61_000);
      const retry = await send();
      expect([retry.status, retry.body.error.code]).toEqual([409, 'idempotency_key_in_use']);
      expect(await countAccounts(name)).toBe(1);
    } finally {
      t.clock.set(started);
      await t.db.query(`DROP TRIGGER IF EXISTS inject_store_fault ON idempotency_keys`);
    }
  });

  it('stores an answer jsonb cannot hold as is (U+0000, a lone surrogate), replaced, and completes the key', async () => {
    const store = t.app.get(IdempotencyStore);
    const ref = { scope: `store-${randomUUID()}`, key: 'k' };
    const begun = await store.begin(ref, { method: 'POST', path: '/v1/x', hash: 'h', resolvable: false });
    expect(begun.kind).toBe('execute');
    const sent = await store.complete(ref, 202, {
      description: 'cut \ud800',
      note: 'a\u0000b',
      ok: 'ü \ud83d\ude00',
    });
    expect(sent).toEqual({ description: 'cut \ufffd', note: 'a\ufffdb', ok: 'ü \ud83d\ude00' });
    const replay = await store.begin(ref, { method: 'POST', path: '/v1/x', hash: 'h', resolvable: false });
    expect(replay).toEqual({ kind: 'replay', status: 202, body: sent });
  });

  it('scopes keys to the account: the same key in two accounts is two operations', async () => {
    const a = await http<AccountBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body: createBody(`Scoped ${randomUUID()}`),
      headers: { 'idempotency-key': randomUUID() },
    });
    const b = await http<AccountBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      body: createBody(`Scoped ${randomUUID()}`),
      headers: { 'idempotency-key': randomUUID() },
    });
    const key = randomUUID();
    const ownerA = await tokenFor({ sub: 'oa', role: 'owner', accountId: a.body.id });
    const ownerB = await tokenFor({ sub: 'ob', role: 'owner', accountId: b.body.id });
    const patchA = await http<AccountBody>(t.url, 'PATCH', `/v1/accounts/${a.body.id}`, {
      token: ownerA,
      body: { name: 'Renamed' },
      headers: { 'idempotency-key': key },
    });
    const patchB = await http<AccountBody>(t.url, 'PATCH', `/v1/accounts/${b.body.id}`, {
      token: ownerB,
      body: { name: 'Renamed' },
      headers: { 'idempotency-key': key },
    });
    expect([patchA.status, patchB.status]).toEqual([200, 200]);
    expect(patchA.body.id).toBe(a.body.id);
    expect(patchB.body.id).toBe(b.body.id);
  });

  it('forgets keys after 24 hours: the same key then starts a new operation', async () => {
    const key = randomUUID();
    const started = t.clock.now();
    try {
      const first = await http<AccountBody>(t.url, 'POST', '/v1/admin/accounts', {
        token: admin,
        body: createBody(`Old ${key}`),
        headers: { 'idempotency-key': key },
      });
      expect(first.status).toBe(201);

      t.clock.advance(23 * HOUR);
      const within = await http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
        token: admin,
        body: createBody(`New ${key}`),
        headers: { 'idempotency-key': key },
      });
      expect(within.status).toBe(409);

      t.clock.advance(2 * HOUR);
      const after = await http<AccountBody>(t.url, 'POST', '/v1/admin/accounts', {
        token: admin,
        body: createBody(`New ${key}`),
        headers: { 'idempotency-key': key },
      });
      expect(after.status).toBe(201);
      expect(after.body.id).not.toBe(first.body.id);
    } finally {
      t.clock.set(started);
    }
  });

  it('purges expired keys in the hourly job and keeps live ones', async () => {
    // The clock stays at the present: other suites share this database and their keys are live.
    const now = t.clock.now();
    const scope = `purge-test-${randomUUID()}`;
    const insert = (key: string, expiresAt: Date): Promise<unknown> =>
      t.db.query(
        `INSERT INTO idempotency_keys (scope, key, method, path, request_hash, status, response_status, response_body, locked_at, created_at, expires_at)
         VALUES ($1, $2, 'POST', '/v1/x', 'h', 'completed', 201, '{}'::jsonb, $3, $3, $4)`,
        [scope, key, new Date(expiresAt.getTime() - 24 * HOUR), expiresAt],
      );
    await insert('expired', new Date(now.getTime() - HOUR));
    await insert('live', new Date(now.getTime() + HOUR));
    const purge = await t.app.get(JobQueue).enqueue('maintenance.purge-idempotency-keys', {});
    const result = (await purge.finished()) as { deleted: number };
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    const left = await t.db.query<{ key: string }[]>(`SELECT key FROM idempotency_keys WHERE scope = $1`, [
      scope,
    ]);
    expect(left.map((r) => r.key)).toEqual(['live']);
  });
});
