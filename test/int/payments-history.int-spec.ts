import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { tokenFor } from '../support/test-app.js';
import { ensureTestDatabase, TEST_DATABASE_URL } from '../support/test-env.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  savedDeclineCard,
  startPaymentsWorld,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';

interface PaymentBody {
  id: string;
  amount: number;
  currency: string;
  status: string;
  createdAt: string;
  orderReference: string | null;
}
interface Page {
  data: PaymentBody[];
  has_more: boolean;
  next_cursor: string | null;
}

describe('payment history (R-PAY-3)', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let other: TestAccount;
  const made: PaymentBody[] = [];
  let failedId = '';

  beforeAll(async () => {
    // The database's sessions run 14 hours ahead of UTC, so that a bare date read in the server's zone
    // instead of as midnight UTC would filter differently (see the creation-time filters below).
    await ensureTestDatabase();
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(
        `ALTER DATABASE "${new URL(TEST_DATABASE_URL).pathname.slice(1)}" SET timezone TO 'Pacific/Kiritimati'`,
      );
    } finally {
      await admin.end();
    }
    w = await startPaymentsWorld();
    // Late on 15 June UTC: already 16 June in the database's zone.
    w.t.clock.set(new Date('2030-06-15T23:30:00.000Z'));
    a = await accountWithCustomer(w);
    other = await accountWithCustomer(w);
    const visa = await attachMethod(w, a, 'pm_card_visa');
    // Some payments share a creation instant (the clock stands still) so that ties need the id.
    const plan: [number, string, number][] = [
      [500, 'usd', 0],
      [1500, 'usd', 0],
      [1500, 'eur', 1000],
      [300, 'eur', 0],
      [9000, 'usd', 1000],
      [700, 'jpy', 0],
      [1500, 'usd', 0],
    ];
    for (const [i, [amount, currency, advance]] of plan.entries()) {
      w.t.clock.advance(advance);
      const res = await http<PaymentBody>(w.t.url, 'POST', '/v1/payments', {
        token: a.owner,
        body: { amount, currency, paymentMethodId: visa, orderReference: `H-${i}` },
        headers: { 'idempotency-key': randomUUID() },
      });
      if (res.status !== 201) throw new Error(`payment ${i} answered ${res.status}`);
      made.push(res.body);
    }
    const declined = await savedDeclineCard(w, a, '4000000000009995');
    const res = await http<{ error: { details: { payment_id: string } } }>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 100, currency: 'usd', paymentMethodId: declined },
      headers: { 'idempotency-key': randomUUID() },
    });
    failedId = res.body.error.details.payment_id;
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  async function all(token: string, query: string): Promise<PaymentBody[]> {
    const out: PaymentBody[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 50; guard++) {
      const res: { status: number; body: Page } = await http<Page>(
        w.t.url,
        'GET',
        `/v1/payments?limit=2&${query}${cursor ? `&cursor=${cursor}` : ''}`,
        { token },
      );
      expect(res.status).toBe(200);
      out.push(...res.body.data);
      if (!res.body.has_more) return out;
      cursor = res.body.next_cursor;
    }
    throw new Error('too many pages');
  }

  it.each([
    ['created', 'desc'],
    ['created', 'asc'],
    ['amount', 'desc'],
    ['amount', 'asc'],
  ] as const)('pages by %s %s in a stable order, none skipped or repeated', async (sort, direction) => {
    const rows = await w.t.db.query<{ id: string; amount: string; created_at: Date }[]>(
      `SELECT id, amount, created_at FROM payments WHERE account_id = $1
        ORDER BY ${sort === 'amount' ? 'amount' : 'created_at'} ${direction}, id ${direction}`,
      [a.accountId],
    );
    const seen = await all(a.owner, `sort=${sort}&direction=${direction}`);
    expect(seen.map((p) => p.id)).toEqual(rows.map((r) => r.id));
    expect(seen).toHaveLength(made.length + 1);
    const key = (p: PaymentBody) => (sort === 'amount' ? p.amount : Date.parse(p.createdAt));
    const keys = seen.map(key);
    const sorted = [...keys].sort((x, y) => (direction === 'asc' ? x - y : y - x));
    expect(keys).toEqual(sorted);
  });

  it('filters by status, currency, amount range, order reference and creation time', async () => {
    expect((await all(a.owner, 'status=failed')).map((p) => p.id)).toEqual([failedId]);
    expect((await all(a.owner, 'status=failed,succeeded')).length).toBe(made.length + 1);
    expect((await all(a.owner, 'currency=EUR')).map((p) => p.amount).sort((x, y) => x - y)).toEqual([
      300, 1500,
    ]);
    expect((await all(a.owner, 'amountMin=1000&amountMax=1500')).map((p) => p.amount)).toEqual([
      1500, 1500, 1500,
    ]);
    expect((await all(a.owner, 'orderReference=H-4')).map((p) => p.amount)).toEqual([9000]);
    const last = made[made.length - 1]?.createdAt ?? '';
    const after = await all(a.owner, `createdFrom=${encodeURIComponent(last)}`);
    expect(after.every((p) => Date.parse(p.createdAt) >= Date.parse(last))).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    expect(await all(a.owner, `createdTo=${encodeURIComponent(made[0]?.createdAt ?? '')}`)).toEqual([]);
    // A bare date is midnight UTC, whatever the database's zone: the payments of 15 June (UTC) are all
    // before 16 June, though in the database's zone (UTC+14) they were made on 16 June.
    const day = (made[0]?.createdAt ?? '').slice(0, 10);
    expect(day).toBe('2030-06-15');
    expect(await all(a.owner, 'createdFrom=2030-06-16')).toEqual([]);
    expect((await all(a.owner, 'createdTo=2030-06-16')).length).toBe(made.length + 1);
    expect((await all(a.owner, `createdFrom=${day}`)).length).toBe(made.length + 1);
    expect(await all(a.owner, `createdTo=${day}`)).toEqual([]);
    // Bad filters and forged cursors are 400s with a code, not errors from PostgreSQL.
    const forged = (value: unknown, id: unknown) =>
      Buffer.from(JSON.stringify([value, id])).toString('base64url');
    const uuid = made[0]?.id ?? '';
    for (const query of [
      'status=nope',
      'createdFrom=2026-W01-1',
      'createdFrom=2026-01',
      `createdTo=${day}T10:00`,
      'createdTo=2026-02-30',
      `cursor=${forged('2031', uuid)}`,
      `cursor=${forged('2026-11-30T10:00:00.000Z', 'x')}`,
      `sort=amount&cursor=${forged('2026-11-30T10:00:00.000Z', uuid)}`,
    ]) {
      const bad = await http<{ error: { code: string } }>(w.t.url, 'GET', `/v1/payments?${query}`, {
        token: a.owner,
      });
      expect([query, bad.status, bad.body.error.code]).toEqual([query, 400, 'validation_failed']);
    }
  });

  it('one payment with its status history and refunds; another account’s is 404; roles', async () => {
    const id = made[0]?.id ?? '';
    const res = await http<{ id: string; statusHistory: { toStatus: string }[]; refunds: unknown[] }>(
      w.t.url,
      'GET',
      `/v1/payments/${id}`,
      { token: a.owner },
    );
    expect(res.status).toBe(200);
    expect(res.body.statusHistory.slice(0, 2).map((h) => h.toStatus)).toEqual(['pending', 'succeeded']);
    expect(res.body.refunds).toEqual([]);
    expect((await http(w.t.url, 'GET', `/v1/payments/${id}`, { token: other.owner })).status).toBe(404);
    expect((await http(w.t.url, 'GET', `/v1/payments/not-a-uuid`, { token: a.owner })).status).toBe(404);
    expect((await http(w.t.url, 'GET', `/v1/payments/${id}`, { token: a.member })).status).toBe(403);
    const otherList = await http<Page>(w.t.url, 'GET', `/v1/payments?accountId=${a.accountId}`, {
      token: other.owner,
    });
    expect(otherList.status).toBe(404);
    const finance = await tokenFor({ sub: 'fin-1', role: 'finance' });
    expect((await http(w.t.url, 'GET', '/v1/payments', { token: finance })).status).toBe(400);
    const seen = await http<Page>(w.t.url, 'GET', `/v1/payments?accountId=${a.accountId}&limit=100`, {
      token: finance,
    });
    expect(seen.body.data).toHaveLength(made.length + 1);
    expect((await http(w.t.url, 'GET', `/v1/payments/${id}`, { token: finance })).status).toBe(200);
  });
});
