import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tokenFor } from '../support/test-app.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  savedDeclineCard,
  startPaymentsWorld,
  until,
  webhooksSettled,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';

interface RefundBody {
  id: string;
  amount: number;
  status: string;
  stripeRefundId: string | null;
}
interface ErrorBody {
  error: { code: string; details?: { payment_id?: string } };
}

describe('refunds API (R-REF) against the emulator, settled by webhooks', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let visa: string;
  let finance: string;

  const pay = async (amount: number): Promise<string> => {
    const res = await http<{ id: string; status: string; stripePaymentIntentId: string }>(
      w.t.url,
      'POST',
      '/v1/payments',
      {
        token: a.owner,
        body: { amount, currency: 'usd', paymentMethodId: visa },
        headers: { 'idempotency-key': randomUUID() },
      },
    );
    if (res.status !== 201 || res.body.status !== 'succeeded')
      throw new Error(`payment answered ${res.status}`);
    // Refunds are checked against the mirror: let the payment's own webhooks land first (an early
    // payment_intent.created applied after the synchronous answer resets amount_received for a moment).
    await webhooksSettled(w, res.body.stripePaymentIntentId);
    return res.body.id;
  };
  const refund = (paymentId: string, body: Record<string, unknown>, token = finance) =>
    http<RefundBody & ErrorBody>(w.t.url, 'POST', `/v1/payments/${paymentId}/refunds`, {
      token,
      body,
      headers: { 'idempotency-key': randomUUID() },
    });
  const paymentRow = async (id: string) =>
    (
      await w.t.db.query<{ status: string; amount_refunded: string }[]>(
        `SELECT status, amount_refunded FROM payments WHERE id = $1`,
        [id],
      )
    )[0];

  beforeAll(async () => {
    w = await startPaymentsWorld();
    a = await accountWithCustomer(w);
    visa = await attachMethod(w, a, 'pm_card_visa');
    finance = await tokenFor({ sub: 'fin-1', role: 'finance' });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it('partial, partial, then the rest by default: partially_refunded, then refunded', async () => {
    const id = await pay(1000);
    const first = await refund(id, { amount: 300, reason: 'requested_by_customer' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ amount: 300, status: 'pending' });
    expect(first.body.stripeRefundId).toMatch(/^re_/);
    await until(async () => (await paymentRow(id))?.status === 'partially_refunded', 'partially refunded');
    const second = await refund(id, { amount: 200, reason: 'duplicate' });
    expect(second.status).toBe(201);
    const rest = await refund(id, { reason: 'other', note: 'goodwill' });
    expect(rest.status).toBe(201);
    expect(rest.body.amount).toBe(500);
    await until(async () => (await paymentRow(id))?.status === 'refunded', 'refunded');
    expect((await paymentRow(id))?.amount_refunded).toBe('1000');
    const stripeRefunds = await w.stripe.refunds.list({ limit: 100 });
    const ours = stripeRefunds.data.filter((r) => r.metadata?.payment_id === id);
    expect(ours.map((r) => r.amount).sort((x, y) => x - y)).toEqual([200, 300, 500]);
    const more = await refund(id, { amount: 1, reason: 'duplicate' });
    expect(more.status).toBe(422);
    const detail = await http<{ refunds: { amount: number; status: string }[] }>(
      w.t.url,
      'GET',
      `/v1/payments/${id}`,
      { token: a.owner },
    );
    expect(detail.body.refunds.map((r) => r.amount).sort((x, y) => x - y)).toEqual([200, 300, 500]);
    const list = await http<{ data: RefundBody[] }>(w.t.url, 'GET', `/v1/refunds?paymentId=${id}&limit=2`, {
      token: finance,
    });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
  }, 30_000);

  it.each([1, 2, 3])(
    'two concurrent refunds that together exceed the total: exactly one succeeds (%i)',
    async () => {
      const id = await pay(1000);
      const answers = await Promise.all([
        refund(id, { amount: 600, reason: 'requested_by_customer' }),
        refund(id, { amount: 600, reason: 'requested_by_customer' }),
      ]);
      expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
      expect(answers.find((r) => r.status === 409)?.body.error.code).toBe('refund_exceeds_remaining');
      const rows = await w.t.db.query<{ amount: string }[]>(
        `SELECT amount FROM refunds WHERE payment_id = $1`,
        [id],
      );
      expect(rows.map((r) => r.amount)).toEqual(['600']);
      const over = await refund(id, { amount: 401, reason: 'duplicate' });
      expect(over.status).toBe(409);
      expect(over.body.error.code).toBe('refund_exceeds_remaining');
    },
    30_000,
  );

  it('owner and member 403; failed payment 422; unknown payment 404; bad input 400', async () => {
    const id = await pay(500);
    expect((await refund(id, { reason: 'duplicate' }, a.owner)).status).toBe(403);
    expect((await refund(id, { reason: 'duplicate' }, a.member)).status).toBe(403);
    expect((await http(w.t.url, 'GET', '/v1/refunds', { token: a.owner })).status).toBe(403);
    const declined = await savedDeclineCard(w, a, '4000000000000002');
    const failed = await http<ErrorBody>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 500, currency: 'usd', paymentMethodId: declined },
      headers: { 'idempotency-key': randomUUID() },
    });
    const failedId = failed.body.error.details?.payment_id ?? '';
    const notRefundable = await refund(failedId, { reason: 'duplicate' });
    expect(notRefundable.status).toBe(422);
    expect(notRefundable.body.error.code).toBe('payment_not_refundable');
    expect((await refund(randomUUID(), { reason: 'duplicate' })).status).toBe(404);
    for (const body of [
      { amount: 0, reason: 'duplicate' },
      { amount: -1, reason: 'duplicate' },
      { amount: 1.5, reason: 'duplicate' },
      { reason: 'because' },
      { reason: 'other' },
      { amount: 100 },
      { amount: 100, reason: 'duplicate', extra: true },
    ]) {
      const res = await refund(id, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    const rows = await w.t.db.query<unknown[]>(`SELECT 1 FROM refunds WHERE payment_id = ANY($1)`, [
      [id, failedId],
    ]);
    expect(rows).toHaveLength(0);
  }, 30_000);
});
