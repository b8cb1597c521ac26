import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tokenFor } from '../support/test-app.js';
import { allPages } from '../support/pages.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  startPaymentsWorld,
  until,
  type PaymentsWorld,
  type TestAccount,
  paySucceeded,
} from './payments-support.js';

interface RefundBody {
  id: string;
  paymentId: string;
  accountId: string;
  amount: number;
  status: string;
  origin: string;
}
interface RefundPage {
  data: RefundBody[];
  has_more: boolean;
  next_cursor: string | null;
}
interface ErrorBody {
  error: { code: string; param?: string };
}

/** `GET /v1/refunds` (R-REF): who may list, cursor pages in a stable order, filters, bad queries. */
describe('GET /v1/refunds: roles, cursor pages and filters', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let b: TestAccount;
  let finance: string;
  let support: string;
  /** Account a's refunds, newest first, as the list must return them. */
  let aNewestFirst: string[];
  let p1: string;
  let bSucceeded: string;
  let bFailed: string;

  const pay = async (account: TestAccount, method: string, amount: number): Promise<string> =>
    (await paySucceeded(w, account, method, amount)).id;

  const refund = async (paymentId: string, amount: number): Promise<string> => {
    const res = await http<RefundBody>(w.t.url, 'POST', `/v1/payments/${paymentId}/refunds`, {
      token: finance,
      body: { amount, reason: 'requested_by_customer' },
      headers: { 'idempotency-key': randomUUID() },
    });
    if (res.status !== 201) throw new Error(`refund answered ${res.status}`);
    return res.body.id;
  };
  const list = (query: string, token = finance) =>
    http<RefundPage & ErrorBody>(w.t.url, 'GET', `/v1/refunds${query ? `?${query}` : ''}`, { token });
  const statusOf = async (id: string) =>
    (await w.t.db.query<{ status: string }[]>(`SELECT status FROM refunds WHERE id = $1`, [id]))[0]?.status;

  beforeAll(async () => {
    w = await startPaymentsWorld();
    finance = await tokenFor({ sub: 'fin-1', role: 'finance' });
    support = await tokenFor({ sub: 'sup-1', role: 'support' });
    a = await accountWithCustomer(w);
    b = await accountWithCustomer(w);
    const aVisa = await attachMethod(w, a, 'pm_card_visa');
    const bVisa = await attachMethod(w, b, 'pm_card_visa');
    const bFailing = await attachMethod(w, b, 'pm_card_refundFail');

    // Account a: three refunds one second apart, then two at the same instant (ties broken by id).
    p1 = await pay(a, aVisa, 1000);
    const p2 = await pay(a, aVisa, 500);
    const spaced: string[] = [];
    for (let i = 0; i < 3; i++) {
      w.t.clock.advance(1000);
      spaced.push(await refund(p1, 100));
    }
    w.t.clock.advance(1000);
    const tied = [await refund(p2, 100), await refund(p2, 200)].sort().reverse();
    aNewestFirst = [...tied, ...spaced.reverse()];

    // Account b: one refund that succeeds, one that Stripe fails.
    bSucceeded = await refund(await pay(b, bVisa, 600), 100);
    bFailed = await refund(await pay(b, bFailing, 300), 300);
    await until(async () => (await statusOf(bSucceeded)) === 'succeeded', 'b refund succeeded');
    await until(async () => (await statusOf(bFailed)) === 'failed', 'b refund failed');
  }, 90_000);
  afterAll(async () => {
    await w?.close();
  });

  it('finance, support and admin may list; owner and member get 403; no token 401', async () => {
    for (const token of [finance, support, w.admin]) {
      const res = await list(`accountId=${a.accountId}`, token);
      expect(res.status).toBe(200);
      expect(res.body.data.map((r) => r.id)).toEqual(aNewestFirst);
    }
    for (const token of [a.owner, a.member]) {
      const res = await list(`accountId=${a.accountId}`, token);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 403, code: 'forbidden' });
    }
    expect((await http(w.t.url, 'GET', '/v1/refunds')).status).toBe(401);
  });

  it('cursor pages: newest first, every refund once, ties on created_at broken by id', async () => {
    const first = await list(`accountId=${a.accountId}&limit=2`);
    expect(first.body.data.map((r) => r.id)).toEqual(aNewestFirst.slice(0, 2));
    expect(first.body.has_more).toBe(true);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    for (const limit of [1, 2, 4, 5]) {
      const { ids, pages } = await allPages(list, `accountId=${a.accountId}&limit=${limit}`);
      expect({ limit, ids }).toEqual({ limit, ids: aNewestFirst });
      expect(pages).toBe(Math.ceil(aNewestFirst.length / limit));
    }
    const whole = await list(`accountId=${a.accountId}`);
    expect(whole.body).toMatchObject({ has_more: false, next_cursor: null });
  });

  it('filters: account, payment and status, alone and together', async () => {
    const byPayment = await list(`paymentId=${p1}`);
    expect(byPayment.body.data.map((r) => r.id)).toEqual(aNewestFirst.slice(2));
    expect(new Set(byPayment.body.data.map((r) => r.paymentId))).toEqual(new Set([p1]));

    const byAccount = await list(`accountId=${b.accountId}`);
    expect(byAccount.body.data.map((r) => r.id).sort()).toEqual([bSucceeded, bFailed].sort());
    expect(new Set(byAccount.body.data.map((r) => r.accountId))).toEqual(new Set([b.accountId]));

    const failed = await list(`accountId=${b.accountId}&status=failed`);
    expect(failed.body.data.map((r) => [r.id, r.status])).toEqual([[bFailed, 'failed']]);
    const succeeded = await list(`accountId=${b.accountId}&status=succeeded`);
    expect(succeeded.body.data.map((r) => [r.id, r.status])).toEqual([[bSucceeded, 'succeeded']]);
    expect((await list(`accountId=${b.accountId}&status=canceled`)).body.data).toEqual([]);
    // Another account's payment: nothing, not a's refunds.
    expect((await list(`accountId=${b.accountId}&paymentId=${p1}`)).body.data).toEqual([]);
    // Across accounts, the status filter still holds.
    const allFailed = await list('status=failed&limit=100');
    expect(allFailed.body.data.map((r) => r.id)).toContain(bFailed);
    expect(allFailed.body.data.every((r) => r.status === 'failed')).toBe(true);
  });

  it('bad queries: 400 validation_failed', async () => {
    const foreignCursor = Buffer.from(JSON.stringify(['not a date', 'not a uuid'])).toString('base64url');
    for (const query of [
      'status=refunded',
      'accountId=acc-1',
      'paymentId=42',
      'limit=0',
      'limit=101',
      'limit=two',
      'cursor=%21%21',
      `cursor=${foreignCursor}`,
      'cursor=bm90LWpzb24',
      'sort=amount',
    ]) {
      const res = await list(query);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({
        query,
        status: 400,
        code: 'validation_failed',
      });
    }
  });
});
