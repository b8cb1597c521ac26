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
  paySucceeded,
} from './payments-support.js';

interface RefundBody {
  id: string;
  amount: number;
  status: string;
  reason: string | null;
  note: string | null;
  origin: string;
  stripeRefundId: string | null;
}
interface PaymentDetail {
  status: string;
  refunds: { id: string; amount: number; status: string; reason: string | null; note?: string | null }[];
}

const DAY_MS = 86_400_000;
/** The world's refund window: shorter than the default (180), so the test shows the setting is read. */
const WINDOW_DAYS = 30;
interface ErrorBody {
  error: { code: string; details?: { payment_id?: string } };
}

describe('refunds API (R-REF) against the emulator, settled by webhooks', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let visa: string;
  let finance: string;

  const payWith = (method: string, amount: number) => paySucceeded(w, a, method, amount);

  const pay = async (amount: number): Promise<string> => (await payWith(visa, amount)).id;
  const refund = (paymentId: string, body: Record<string, unknown>, token = finance) =>
    http<RefundBody & ErrorBody>(w.t.url, 'POST', `/v1/payments/${paymentId}/refunds`, {
      token,
      body,
      headers: { 'idempotency-key': randomUUID() },
    });
  const detail = (id: string) =>
    http<PaymentDetail>(w.t.url, 'GET', `/v1/payments/${id}`, { token: a.owner });
  const listRefunds = (query: string) =>
    http<{ data: RefundBody[] }>(w.t.url, 'GET', `/v1/refunds?${query}`, { token: finance });
  const refundRow = async (id: string) =>
    (
      await w.t.db.query<{ status: string; failure_reason: string | null; note: string | null }[]>(
        `SELECT status, failure_reason, note FROM refunds WHERE id = $1`,
        [id],
      )
    )[0];
  /** Rows of one kind about a refund: integration events by type, e-mails by template. */
  const integrationEvents = (refundId: string, type: string) =>
    w.t.db.query<{ payload: { status: string } }[]>(
      `SELECT payload FROM integration_events WHERE subject_id = $1 AND type = $2`,
      [refundId, type],
    );
  const refundEmails = (refundId: string) =>
    w.t.db.query<unknown[]>(
      `SELECT 1 FROM notifications WHERE template = 'refund_issued' AND (dedupe_key = $1 OR payload->>'refundId' = $2)`,
      [`refund:${refundId}`, refundId],
    );
  /** Nothing of a refund anywhere: no row, no audit record, no refund at Stripe. */
  const expectNoRefundWritten = async (paymentId: string, intentId: string) => {
    expect(await w.t.db.query(`SELECT id FROM refunds WHERE payment_id = $1`, [paymentId])).toEqual([]);
    expect(
      await w.t.db.query(
        `SELECT action FROM audit_log WHERE entity_type = 'refund' AND after->>'paymentId' = $1`,
        [paymentId],
      ),
    ).toEqual([]);
    expect((await w.stripe.refunds.list({ payment_intent: intentId })).data).toEqual([]);
  };
  const paymentRow = async (id: string) =>
    (
      await w.t.db.query<{ status: string; amount_refunded: string }[]>(
        `SELECT status, amount_refunded FROM payments WHERE id = $1`,
        [id],
      )
    )[0];

  beforeAll(async () => {
    w = await startPaymentsWorld({ REFUND_WINDOW_DAYS: String(WINDOW_DAYS) });
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
    // Refunded means all three succeeded, each in the transaction that wrote its e-mail and event.
    for (const r of [first, second, rest]) {
      expect(await refundEmails(r.body.id)).toHaveLength(1);
      expect(await integrationEvents(r.body.id, 'refund.succeeded')).toHaveLength(1);
    }
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
    const { id, intentId } = await payWith(visa, 500);
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
      { reason: 'other', note: '' },
      { reason: 'other', note: 'x'.repeat(501) },
      { reason: 'other', note: 42 },
      { amount: 100 },
      { amount: 100, reason: 'duplicate', extra: true },
    ]) {
      const res = await refund(id, body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({
        body,
        status: 400,
        code: 'validation_failed',
      });
    }
    await expectNoRefundWritten(id, intentId);
    const rows = await w.t.db.query<unknown[]>(`SELECT 1 FROM refunds WHERE payment_id = ANY($1)`, [
      [id, failedId],
    ]);
    expect(rows).toHaveLength(0);
  }, 30_000);

  it('reason other with a note: the note is kept, shown everywhere and sent to Stripe', async () => {
    const { id } = await payWith(visa, 1000);
    const note = 'Goodwill: parcel arrived damaged';
    const created = await refund(id, { amount: 250, reason: 'other', note });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ amount: 250, reason: 'other', note, origin: 'api' });
    const plain = await refund(id, { amount: 100, reason: 'duplicate' });
    expect(plain.status).toBe(201);
    expect(plain.body.note).toBeNull();

    const atStripe = await w.stripe.refunds.retrieve(created.body.stripeRefundId ?? '');
    expect(atStripe.metadata).toMatchObject({ refund_id: created.body.id, reason: 'other', note });
    expect(atStripe.reason).toBeNull();
    const plainAtStripe = await w.stripe.refunds.retrieve(plain.body.stripeRefundId ?? '');
    expect(plainAtStripe.metadata?.note).toBeUndefined();

    // The webhooks that settle the refund keep the note.
    await until(async () => (await refundRow(created.body.id))?.status === 'succeeded', 'refund settled');
    await webhooksSettled(w, created.body.stripeRefundId ?? '');
    const shown = await detail(id);
    expect(shown.status).toBe(200);
    expect(shown.body.refunds.find((r) => r.id === created.body.id)).toMatchObject({ reason: 'other', note });
    expect(shown.body.refunds.find((r) => r.id === plain.body.id)?.note).toBeNull();
    const listed = await listRefunds(`paymentId=${id}`);
    expect(listed.body.data.find((r) => r.id === created.body.id)).toMatchObject({
      status: 'succeeded',
      reason: 'other',
      note,
    });
    // The audit record keeps the note as its reason, as before.
    const audit = await w.t.db.query<{ reason: string | null }[]>(
      `SELECT reason FROM audit_log WHERE action = 'refund.created' AND entity_id = $1`,
      [created.body.id],
    );
    expect(audit).toEqual([{ reason: note }]);
  }, 30_000);

  it('a payment older than the refund window: 422 refund_window_expired, nothing written', async () => {
    const { id, intentId } = await payWith(visa, 700);
    const paidAt = w.t.clock.now();
    w.t.clock.advance((WINDOW_DAYS + 1) * DAY_MS);
    let late;
    try {
      late = await refund(id, { amount: 100, reason: 'requested_by_customer' });
    } finally {
      w.t.clock.set(paidAt);
    }
    expect(late.status).toBe(422);
    expect(late.body.error.code).toBe('refund_window_expired');
    await expectNoRefundWritten(id, intentId);
    // The same request inside the window is accepted: the refusal was the window's.
    const inTime = await refund(id, { amount: 100, reason: 'requested_by_customer' });
    expect(inTime.status).toBe(201);
  }, 30_000);

  it('a refund Stripe fails later: failed by webhook, amount refundable again, refund.failed, no e-mail', async () => {
    const failing = await attachMethod(w, a, 'pm_card_refundFail');
    const { id } = await payWith(failing, 800);
    const first = await refund(id, { reason: 'requested_by_customer' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ amount: 800, status: 'pending' });
    await until(async () => (await refundRow(first.body.id))?.status === 'failed', 'refund failed');
    await webhooksSettled(w, first.body.stripeRefundId ?? '');
    expect(await refundRow(first.body.id)).toMatchObject({ failure_reason: 'expired_or_canceled_card' });
    expect(await paymentRow(id)).toEqual({ status: 'succeeded', amount_refunded: '0' });
    const failedEvents = await integrationEvents(first.body.id, 'refund.failed');
    expect(failedEvents.map((e) => e.payload.status)).toEqual(['failed']);
    expect(await integrationEvents(first.body.id, 'refund.succeeded')).toEqual([]);
    expect(await refundEmails(first.body.id)).toEqual([]);
    const shown = await detail(id);
    expect(shown.body.refunds).toEqual([expect.objectContaining({ id: first.body.id, status: 'failed' })]);
    expect(shown.body.status).toBe('succeeded');

    // The failed refund holds nothing: the whole amount can be refunded again, here and at Stripe.
    const again = await refund(id, { amount: 800, reason: 'requested_by_customer' });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ amount: 800, status: 'pending' });
    expect(again.body.stripeRefundId).toMatch(/^re_/);
  }, 30_000);

  it('a refund made in Stripe (dashboard) appears from its webhooks, once, even when redelivered (R-REF-4)', async () => {
    const { id, intentId } = await payWith(visa, 1000);
    const dashboardRefund = async (amount: number) => {
      const r = await w.stripe.refunds.create({ payment_intent: intentId, amount, reason: 'fraudulent' });
      await until(
        async () =>
          (
            await w.t.db.query<unknown[]>(
              `SELECT 1 FROM refunds WHERE stripe_refund_id = $1 AND status = 'succeeded'`,
              [r.id],
            )
          ).length === 1,
        `mirror of ${r.id}`,
      );
      await webhooksSettled(w, r.id);
      return r;
    };
    const partial = await dashboardRefund(400);
    await until(async () => (await paymentRow(id))?.status === 'partially_refunded', 'partially refunded');
    const shown = await detail(id);
    expect(shown.body.status).toBe('partially_refunded');
    expect(shown.body.refunds).toEqual([
      expect.objectContaining({ amount: 400, status: 'succeeded', reason: 'fraudulent' }),
    ]);
    const listed = await listRefunds(`paymentId=${id}`);
    expect(listed.body.data).toEqual([
      expect.objectContaining({
        amount: 400,
        status: 'succeeded',
        origin: 'stripe',
        stripeRefundId: partial.id,
        note: null,
      }),
    ]);

    // Stripe delivers again every event about the refund and its charge.
    const chargeId = typeof partial.charge === 'string' ? partial.charge : (partial.charge?.id ?? '');
    const events = (await w.stripe.events.list({ limit: 100 })).data.filter((e) =>
      [partial.id, chargeId].includes((e.data.object as { id?: string }).id ?? ''),
    );
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['refund.created', 'refund.updated', 'charge.refunded']),
    );
    for (const e of events) {
      const res = await fetch(`${w.kit.emulator.url}/_emulator/events/${e.id}/redeliver`, { method: 'POST' });
      expect(res.status).toBe(200);
    }
    await w.kit.emulator.delivery.idle();
    // A later refund of the same payment, processed after the redeliveries were acknowledged.
    const rest = await dashboardRefund(600);
    await until(async () => (await paymentRow(id))?.status === 'refunded', 'refunded');

    const rows = await w.t.db.query<{ id: string; stripe_refund_id: string; origin: string }[]>(
      `SELECT id, stripe_refund_id, origin FROM refunds WHERE payment_id = $1 ORDER BY amount`,
      [id],
    );
    expect(rows.map((r) => [r.stripe_refund_id, r.origin])).toEqual([
      [partial.id, 'stripe'],
      [rest.id, 'stripe'],
    ]);
    for (const row of rows) {
      const mirrored = await w.t.db.query<unknown[]>(
        `SELECT 1 FROM audit_log WHERE action = 'refund.mirrored' AND entity_id = $1`,
        [row.id],
      );
      expect(mirrored).toHaveLength(1);
      expect(await integrationEvents(row.id, 'refund.succeeded')).toHaveLength(1);
      expect(await refundEmails(row.id)).toHaveLength(1);
    }
    const final = await detail(id);
    expect(final.body.status).toBe('refunded');
    expect(final.body.refunds.map((r) => r.amount).sort((x, y) => x - y)).toEqual([400, 600]);
    expect((await listRefunds(`paymentId=${id}`)).body.data.map((r) => r.stripeRefundId).sort()).toEqual(
      [partial.id, rest.id].sort(),
    );
    expect((await paymentRow(id))?.amount_refunded).toBe('1000');
  }, 30_000);
});
