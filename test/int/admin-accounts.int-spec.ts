import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { allPages } from '../support/pages.js';

interface AccountBody {
  id: string;
  name: string;
  billingEmail: string;
  stripeCustomerId: string | null;
  createdAt: string;
}
interface AccountPage {
  data: AccountBody[];
  has_more: boolean;
  next_cursor: string | null;
}
interface ErrorBody {
  error: { code: string; param?: string };
}

const T0 = Date.parse('2031-03-01T12:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

/** `GET /v1/admin/accounts` (issue 5, R-API-4): who may look accounts up, the filters, cursor pages. */
describe('GET /v1/admin/accounts: roles, filters and cursor pages', () => {
  let t: TestApp;
  let admin: string;
  let finance: string;
  let support: string;
  let owner: string;
  let member: string;
  let acme: AccountBody;
  let acmeLabs: AccountBody;
  let globex: AccountBody;
  let initech: AccountBody;
  /** Every fixture account, newest first, as the unfiltered list must return them. */
  let newestFirst: string[];
  /** The two accounts created at the same instant, in list order (id descending). */
  let tied: string[];

  const create = async (name: string, billingEmail: string, secondsAfterT0: number): Promise<AccountBody> => {
    t.clock.set(new Date(T0 + secondsAfterT0 * 1000));
    const res = await http<AccountBody>(t.url, 'POST', '/v1/admin/accounts', {
      token: admin,
      headers: { 'idempotency-key': randomUUID() },
      body: { name, billingEmail, owner: { userId: `u-${randomUUID()}`, email: 'o@example.test' } },
    });
    if (res.status !== 201) throw new Error(`create answered ${res.status}`);
    return res.body;
  };
  const list = (query: string, token = admin) =>
    http<AccountPage & ErrorBody>(t.url, 'GET', `/v1/admin/accounts${query ? `?${query}` : ''}`, { token });
  const ids = async (query: string): Promise<string[]> => {
    const res = await list(query);
    expect({ query, status: res.status }).toEqual({ query, status: 200 });
    return res.body.data.map((a) => a.id);
  };

  const accountCount = async (): Promise<number> =>
    (await t.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM accounts`))[0]?.n ?? -1;

  beforeAll(async () => {
    t = await startTestApp({ role: 'api' });
    admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
    finance = await tokenFor({ sub: 'fin-1', role: 'finance' });
    support = await tokenFor({ sub: 'sup-1', role: 'support' });

    acme = await create('Acme Corp', 'Billing@Acme.test', 0);
    acmeLabs = await create('ACME Labs', 'ops@acme-labs.test', 1);
    globex = await create('Globex 100% Pure_Co', 'ap@globex.test', 2);
    initech = await create('Initech Tiles', 'billing@acme.test', 3);
    const tiedA = await create('Tied One', 'tied@umbrella.test', 4);
    const tiedB = await create('Tied Two', 'tied@umbrella.test', 4);
    tied = [tiedA.id, tiedB.id].sort().reverse();
    newestFirst = [...tied, initech.id, globex.id, acmeLabs.id, acme.id];

    // Fixture state the API does not set directly: a Stripe customer (normally made on first need) and
    // a billing email stored with capitals (rows written before emails were lower-cased, or by hand).
    await t.db.query(`UPDATE accounts SET stripe_customer_id = 'cus_GlobexTest123' WHERE id = $1`, [
      globex.id,
    ]);
    await t.db.query(`UPDATE accounts SET billing_email = 'BILLING@acme.TEST' WHERE id = $1`, [initech.id]);
    owner = await tokenFor({ sub: 'owner-1', role: 'owner', accountId: acme.id });
    member = await tokenFor({ sub: 'member-1', role: 'member', accountId: acme.id });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('admin, finance and support may list; owner and member get 403; no token 401; creating stays admin-only', async () => {
    for (const token of [admin, finance, support]) {
      const all = await list('', token);
      expect(all.status).toBe(200);
      expect(all.body.data.map((a) => a.id)).toEqual(newestFirst);
      const found = await list('name=acme', token);
      expect(found.status).toBe(200);
      expect(found.body.data.map((a) => a.id)).toEqual([acmeLabs.id, acme.id]);
    }
    for (const token of [owner, member]) {
      const res = await list('', token);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 403, code: 'forbidden' });
    }
    expect((await http(t.url, 'GET', '/v1/admin/accounts')).status).toBe(401);

    const before = await accountCount();
    for (const token of [finance, support, owner, member]) {
      const res = await http<ErrorBody>(t.url, 'POST', '/v1/admin/accounts', {
        token,
        headers: { 'idempotency-key': randomUUID() },
        body: {
          name: 'Nope',
          billingEmail: 'nope@example.test',
          owner: { userId: 'u-nope', email: 'n@x.test' },
        },
      });
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 403, code: 'forbidden' });
    }
    expect(await accountCount()).toBe(before);
  });

  it('billingEmail: exact and case-insensitive on both sides, never a prefix', async () => {
    expect(await ids('billingEmail=billing@acme.test')).toEqual([initech.id, acme.id]);
    expect(await ids('billingEmail=BILLING@ACME.test')).toEqual([initech.id, acme.id]);
    expect(await ids('billingEmail=tied@umbrella.test')).toEqual(tied);
    expect(await ids('billingEmail=billing@acme.tes')).toEqual([]);
    expect(await ids('billingEmail=illing@acme.test')).toEqual([]);
  });

  it('stripeCustomerId: exact (ids are case-sensitive)', async () => {
    const res = await list('stripeCustomerId=cus_GlobexTest123');
    expect(res.body.data.map((a) => [a.id, a.stripeCustomerId])).toEqual([[globex.id, 'cus_GlobexTest123']]);
    expect(await ids('stripeCustomerId=cus_globextest123')).toEqual([]);
    expect(await ids('stripeCustomerId=cus_GlobexTest12')).toEqual([]);
  });

  it('name: case-insensitive substring; % and _ are literal', async () => {
    expect(await ids('name=acme')).toEqual([acmeLabs.id, acme.id]);
    expect(await ids('name=ME%20L')).toEqual([acmeLabs.id]);
    expect(await ids('name=TIED')).toEqual(tied);
    expect(await ids('name=ti')).toEqual([...tied, initech.id]);
    // Unescaped, `%%` would match every name and `_C` every name with a C after its first letter.
    expect(await ids('name=%25%25')).toEqual([]);
    expect(await ids('name=0%25%20P')).toEqual([globex.id]);
    expect(await ids('name=_C')).toEqual([globex.id]);
    expect(await ids('name=zz')).toEqual([]);
  });

  it('createdFrom (inclusive) and createdTo (exclusive): dates, Z and offsets', async () => {
    expect(await ids(`createdFrom=${at(1)}`)).toEqual(newestFirst.slice(0, 5));
    expect(await ids(`createdTo=${at(2)}`)).toEqual([acmeLabs.id, acme.id]);
    expect(await ids(`createdFrom=${at(1)}&createdTo=${at(3)}`)).toEqual([globex.id, acmeLabs.id]);
    expect(await ids(`createdFrom=${at(4)}&createdTo=${at(4)}`)).toEqual([]);
    // The same instant as at(1), written with an offset (the + encoded, as a client must).
    expect(await ids('createdFrom=2031-03-01T13:00:01%2B01:00')).toEqual(newestFirst.slice(0, 5));
    // A bare date is midnight UTC.
    expect(await ids('createdFrom=2031-03-01&createdTo=2031-03-02')).toEqual(newestFirst);
    expect(await ids('createdFrom=2031-03-02')).toEqual([]);
    expect(await ids('createdTo=2031-03-01')).toEqual([]);
  });

  it('filters combine (AND)', async () => {
    expect(await ids('name=acme&billingEmail=billing@acme.test')).toEqual([acme.id]);
    expect(await ids(`name=acme&createdFrom=${at(1)}`)).toEqual([acmeLabs.id]);
    expect(await ids(`billingEmail=billing@acme.test&createdTo=${at(3)}`)).toEqual([acme.id]);
    expect(await ids('stripeCustomerId=cus_GlobexTest123&name=globex')).toEqual([globex.id]);
    expect(await ids('stripeCustomerId=cus_GlobexTest123&name=acme')).toEqual([]);
    expect(await ids('stripeCustomerId=cus_GlobexTest123&billingEmail=billing@acme.test')).toEqual([]);
  });

  it('pages through a filtered list: every match once, in order, ties broken by id', async () => {
    for (const [query, expected] of [
      ['name=ti', [...tied, initech.id]],
      ['billingEmail=tied@umbrella.test', tied],
      [`createdFrom=${at(0)}`, newestFirst],
      [`name=ac&createdFrom=${at(0)}`, [acmeLabs.id, acme.id]],
    ] as const) {
      for (const limit of [1, 2, 4]) {
        const { ids: seen, pages } = await allPages(list, `${query}&limit=${limit}`);
        expect({ query, limit, seen }).toEqual({ query, limit, seen: expected });
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
      }
    }
    // The filter holds on later pages: page 2 of `name=ti` is not the unfiltered page 2.
    const first = await list('name=ti&limit=2');
    const second = await list(`name=ti&limit=2&cursor=${first.body.next_cursor ?? ''}`);
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(second.body.data.map((a) => a.id)).toEqual([initech.id]);
  });

  it('bad values: 400 validation_failed with the offending param, nothing changed', async () => {
    const forged = (value: unknown, id: unknown): string =>
      Buffer.from(JSON.stringify([value, id])).toString('base64url');
    const before = await accountCount();
    for (const [query, param] of [
      ['billingEmail=not-an-email', 'billingEmail'],
      ['billingEmail=a@b.test&billingEmail=c@d.test', 'billingEmail'],
      [`billingEmail=${'a'.repeat(250)}@b.test`, 'billingEmail'],
      ['stripeCustomerId=pm_123', 'stripeCustomerId'],
      ['stripeCustomerId=cus_', 'stripeCustomerId'],
      ['stripeCustomerId=cus_a%20b', 'stripeCustomerId'],
      [`stripeCustomerId=cus_${'a'.repeat(252)}`, 'stripeCustomerId'],
      ['name=a', 'name'],
      ['name=%00a', 'name'],
      ['name=a%0Ab', 'name'],
      [`name=${'a'.repeat(201)}`, 'name'],
      ['name=ab&name=cd', 'name'],
      ['createdFrom=yesterday', 'createdFrom'],
      ['createdFrom=2031-13-01', 'createdFrom'],
      ['createdFrom=2031-02-30', 'createdFrom'],
      ['createdFrom=2031-W01', 'createdFrom'],
      ['createdFrom=2031-03', 'createdFrom'],
      ['createdFrom=0000-01-01', 'createdFrom'],
      ['createdFrom=2031-03-01T12:00:00', 'createdFrom'],
      ['createdTo=2031-03-01T12:00:00%2B16:00', 'createdTo'],
      ['createdTo=2031-03-01T24:00:00Z', 'createdTo'],
      [`createdFrom=${at(2)}&createdTo=${at(1)}`, 'createdTo'],
      ['email=billing@acme.test', 'email'],
      ['sort=name', 'sort'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['cursor=%21%21', 'cursor'],
      ['cursor=bm90LWpzb24', 'cursor'],
      [`cursor=${forged('not a date', randomUUID())}`, 'cursor'],
      [`cursor=${forged('2031', randomUUID())}`, 'cursor'],
      [`cursor=${forged('0000-01-01T00:00:00.000Z', randomUUID())}`, 'cursor'],
      [`cursor=${forged(at(1), 'not-a-uuid')}`, 'cursor'],
      [`cursor=${forged(5, randomUUID())}`, 'cursor'],
    ] as const) {
      const res = await list(query);
      expect({ query, status: res.status, code: res.body.error?.code, param: res.body.error?.param }).toEqual(
        {
          query,
          status: 400,
          code: 'validation_failed',
          param,
        },
      );
    }
    expect(await accountCount()).toBe(before);
  });

  // Issue 16 (8): an empty filter (`name=`, as a form with a blank field sends it) is the same as none.
  it('takes an empty filter as absent', async () => {
    const all = await list('limit=100');
    expect(all.status).toBe(200);
    for (const query of [
      'billingEmail=',
      'name=',
      'createdFrom=&createdTo=',
      'cursor=',
      'stripeCustomerId=',
    ]) {
      const res = await list(`${query}&limit=100`);
      expect({ query, status: res.status, body: res.body }).toEqual({ query, status: 200, body: all.body });
    }
  });

  it('documents every parameter and its error codes in Swagger', async () => {
    const doc = await http<{
      paths: Record<
        string,
        Record<string, { parameters?: { name: string; in: string }[]; responses: object }>
      >;
    }>(t.url, 'GET', '/docs-json');
    const op = doc.body.paths['/v1/admin/accounts']?.get;
    expect(
      op?.parameters
        ?.filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
    ).toEqual(
      ['billingEmail', 'createdFrom', 'createdTo', 'cursor', 'limit', 'name', 'stripeCustomerId'].sort(),
    );
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
  });

  describe('with many accounts', () => {
    /** The plan PostgreSQL makes for the SQL the app sent for this list query: the index names it reads. */
    const indexesUsed = async (query: string): Promise<{ indexes: string[]; seqScan: boolean }> => {
      const logger = t.db.logger;
      const original = logger.logQuery;
      const sent: { sql: string; parameters: unknown[] }[] = [];
      logger.logQuery = (sql, parameters, runner) => {
        if (/FROM "accounts"/.test(sql))
          sent.push({ sql, parameters: Array.isArray(parameters) ? parameters : [] });
        original.call(logger, sql, parameters, runner);
      };
      try {
        expect((await list(query)).status).toBe(200);
      } finally {
        logger.logQuery = original;
      }
      expect(sent).toHaveLength(1);
      const rows = await t.db.query<{ 'QUERY PLAN': unknown }[]>(
        `EXPLAIN (FORMAT JSON) ${sent[0]?.sql ?? ''}`,
        sent[0]?.parameters,
      );
      const plan = rows[0]?.['QUERY PLAN'];
      const indexes: string[] = [];
      let seqScan = false;
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) return node.forEach(walk);
        if (node === null || typeof node !== 'object') return;
        const n = node as Record<string, unknown>;
        if (typeof n['Index Name'] === 'string') indexes.push(n['Index Name']);
        if (n['Node Type'] === 'Seq Scan') seqScan = true;
        Object.values(n).forEach(walk);
      };
      walk(plan);
      return { indexes, seqScan };
    };

    beforeAll(async () => {
      // 20,000 older accounts, as a real installation has: the planner then chooses as it would there.
      await t.db.query(`
        INSERT INTO accounts (id, name, billing_email, stripe_customer_id, created_at, updated_at)
        SELECT gen_random_uuid(), 'Bulk ' || n, 'bulk' || n || '@bulk.test', 'cus_bulk' || n,
               timestamptz '2001-01-01T00:00:00Z' + n * interval '1 minute',
               timestamptz '2001-01-01T00:00:00Z'
        FROM generate_series(1, 20000) AS n`);
      await t.db.query(`ANALYZE accounts`);
    }, 60_000);

    it('finds by billing email, Stripe customer and creation range through indexes', async () => {
      expect(await indexesUsed('billingEmail=Bulk77@bulk.test')).toEqual({
        indexes: ['accounts_billing_email_idx'],
        seqScan: false,
      });
      expect(await indexesUsed('stripeCustomerId=cus_bulk77')).toEqual({
        indexes: ['accounts_stripe_customer_id_key'],
        seqScan: false,
      });
      expect(await indexesUsed(`createdFrom=${at(0)}`)).toEqual({
        indexes: ['accounts_created_idx'],
        seqScan: false,
      });
      expect(await ids('billingEmail=Bulk77@bulk.test')).toHaveLength(1);
      expect(await ids('stripeCustomerId=cus_bulk77')).toHaveLength(1);
      // The fixtures are still found among them, by every filter.
      expect(await ids('billingEmail=billing@acme.test')).toEqual([initech.id, acme.id]);
      expect(await ids('name=acme')).toEqual([acmeLabs.id, acme.id]);
    });
  });
});
