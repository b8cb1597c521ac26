import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { JobQueue } from '../../apps/billing-api/src/platform/queue/job-queue.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  savedDeclineCard,
  startPaymentsWorld,
  until,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';

interface PaymentBody {
  id: string;
  status: string;
  amount: number;
  currency: string;
  failureCode: string | null;
  declineCode: string | null;
  stripePaymentIntentId: string | null;
  paymentMethod: { brand: string | null; last4: string | null };
  fee: number | null;
  net: number | null;
  nextAction?: { type: string; clientSecret: string; redirectUrl: string | null };
}
interface ErrorBody {
  error: { code: string; param?: string; details?: { payment_id?: string; decline_code?: string } };
}

describe('POST /v1/payments (R-PAY-1/5/6) against the emulator, webhooks delivered to the app', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let visa: string;

  const pay = (token: string, body: Record<string, unknown>, key: string = randomUUID()) =>
    http<PaymentBody & ErrorBody>(w.t.url, 'POST', '/v1/payments', {
      token,
      body,
      headers: { 'idempotency-key': key },
    });

  async function row(id: string): Promise<Record<string, unknown> | undefined> {
    const rows = await w.t.db.query<Record<string, unknown>[]>(`SELECT * FROM payments WHERE id = $1`, [id]);
    return rows[0];
  }

  /** The mirror sets `last_event_created` only when it applies a webhook to the row. */
  async function settledByWebhook(id: string, status: string): Promise<void> {
    await until(async () => {
      const r = await row(id);
      return r?.status === status && r.last_event_created !== null;
    }, `payment ${id} ${status} by webhook`);
  }

  beforeAll(async () => {
    w = await startPaymentsWorld({ PAYMENT_MAX_AMOUNT: '1000000' });
    a = await accountWithCustomer(w);
    visa = await attachMethod(w, a, 'pm_card_visa');
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it("records the charge's fee and net with the capture, from Stripe's answer: no balance job, no second call", async () => {
    const res = await pay(a.owner, { amount: 4321, currency: 'usd', paymentMethodId: visa });
    expect(res.status).toBe(201);
    const pi = await w.stripe.paymentIntents.retrieve(res.body.stripePaymentIntentId ?? '', {
      expand: ['latest_charge.balance_transaction'],
    });
    const txn = (pi.latest_charge as Stripe.Charge).balance_transaction as Stripe.BalanceTransaction;
    expect(txn.fee).toBeGreaterThan(0);
    // The answer itself shows them: they were written by the statement that recorded the capture.
    expect(res.body).toMatchObject({ fee: txn.fee, net: txn.net });
    expect(await row(res.body.id)).toMatchObject({
      balance_transaction_id: txn.id,
      fee: String(txn.fee),
      net: String(txn.net),
    });
    await settledByWebhook(res.body.id, 'succeeded');
    const job = await w.t.app
      .get(JobQueue, { strict: false })
      .queueFor('payments.record-balance')
      .getJob(`payment-balance:${res.body.id}`);
    expect(job).toBeNull();
  });

  it('charges a card: succeeded, with status history and audit, and the webhook agrees', async () => {
    const res = await pay(a.owner, {
      amount: 2500,
      currency: 'usd',
      paymentMethodId: visa,
      orderReference: 'ORD-1',
      metadata: { cart: 'c1' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'succeeded', amount: 2500, currency: 'usd' });
    expect(res.body.paymentMethod).toMatchObject({ brand: 'visa', last4: '4242' });
    const pi = await w.stripe.paymentIntents.retrieve(res.body.stripePaymentIntentId ?? '');
    expect(pi.metadata).toMatchObject({ payment_id: res.body.id, account_id: a.accountId, cart: 'c1' });
    expect(pi.status).toBe('succeeded');
    await settledByWebhook(res.body.id, 'succeeded');
    expect(await row(res.body.id)).toMatchObject({ origin: 'api', stripe_payment_intent_id: pi.id });
    const history = await w.t.db.query<{ from_status: string | null; to_status: string }[]>(
      `SELECT from_status, to_status FROM payment_status_history WHERE payment_id = $1 ORDER BY id`,
      [res.body.id],
    );
    expect(history.slice(0, 2)).toEqual([
      { from_status: null, to_status: 'pending' },
      { from_status: 'pending', to_status: 'succeeded' },
    ]);
    const audit = await w.t.db.query<{ action: string; after: unknown }[]>(
      `SELECT action, after FROM audit_log WHERE entity_id = $1 ORDER BY id`,
      [res.body.id],
    );
    expect(audit.map((x) => x.action)).toEqual(['payment.created', 'payment.status_changed']);
    // The method's Stripe id comes from its row, read by the statement that writes the payment.
    expect(audit[0]?.after).toEqual({
      status: 'pending',
      amount: 2500,
      currency: 'usd',
      orderReference: 'ORD-1',
      paymentMethod: visa,
    });
    expect(await row(res.body.id)).toMatchObject({
      stripe_customer_id: a.customerId,
      stripe_payment_method_id: visa,
      card_brand: 'visa',
      card_last4: '4242',
    });
  }, 30_000);

  it('a method mirrored without its customer pays with the account’s customer', async () => {
    const pm = await attachMethod(w, a, 'pm_card_mastercard');
    await w.t.db.query(
      `UPDATE payment_methods SET stripe_customer_id = NULL WHERE stripe_payment_method_id = $1`,
      [pm],
    );
    const res = await pay(a.owner, { amount: 700, currency: 'usd', paymentMethodId: pm });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'succeeded', paymentMethod: { brand: 'mastercard' } });
    expect(await row(res.body.id)).toMatchObject({
      stripe_customer_id: a.customerId,
      stripe_payment_method_id: pm,
    });
    const pi = await w.stripe.paymentIntents.retrieve(res.body.stripePaymentIntentId ?? '');
    expect(pi.customer).toBe(a.customerId);
    // One payment row, one first history line, one creation record: the first statement wrote nothing.
    const written = await w.t.db.query<{ n: number }[]>(
      `SELECT ((SELECT count(*) FROM payments WHERE stripe_payment_method_id = $1)
             + (SELECT count(*) FROM audit_log a JOIN payments p ON a.entity_id = p.id::text
                 WHERE p.stripe_payment_method_id = $1 AND a.action = 'payment.created'))::int AS n`,
      [pm],
    );
    expect(written[0]?.n).toBe(2);
  }, 30_000);

  // [card, our code, Stripe's decline_code]: every emulated decline has one, and it must reach the client.
  it.each([
    ['4000000000000002', 'card_declined', 'generic_decline'],
    ['4000000000009995', 'insufficient_funds', 'insufficient_funds'],
    ['4000000000009987', 'card_declined', 'lost_card'],
    ['4000000000009979', 'card_declined', 'stolen_card'],
    ['4000000000000069', 'expired_card', 'expired_card'],
    ['4000000000000127', 'incorrect_cvc', 'incorrect_cvc'],
    ['4000000000000119', 'processing_error', 'processing_error'],
    ['pm_card_chargeCustomerFail', 'card_declined', 'generic_decline'],
  ])(
    '%s -> 402 %s (decline_code %s), the payment kept as failed',
    async (card, code, declineCode) => {
      const pm = card.startsWith('pm_') ? await attachMethod(w, a, card) : await savedDeclineCard(w, a, card);
      const res = await pay(a.owner, { amount: 1000, currency: 'eur', paymentMethodId: pm });
      expect(res.status).toBe(402);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.details?.decline_code).toBe(declineCode);
      const id = res.body.error.details?.payment_id ?? '';
      const stored = await row(id);
      expect(stored).toMatchObject({ status: 'failed', account_id: a.accountId, decline_code: declineCode });
      expect(stored?.failure_code).not.toBeNull();
      await settledByWebhook(id, 'failed');
    },
    30_000,
  );

  it('3-D Secure: requires_action with nextAction; completing it succeeds, failing it fails', async () => {
    for (const [result, final] of [
      ['succeed', 'succeeded'],
      ['fail', 'failed'],
    ] as const) {
      const pm = await attachMethod(w, a, 'pm_card_authenticationRequired');
      const res = await pay(a.owner, { amount: 4200, currency: 'gbp', paymentMethodId: pm });
      expect(res.status).toBe(201);
      expect(res.body.status).toBe('requires_action');
      expect(res.body.nextAction?.clientSecret).toContain(res.body.stripePaymentIntentId ?? 'none');
      expect(res.body.nextAction?.redirectUrl).toContain('/_emulator/3ds/');
      const done = await fetch(`${res.body.nextAction?.redirectUrl}?result=${result}`, {
        method: 'POST',
        redirect: 'manual',
      });
      expect(done.status).toBeLessThan(400);
      await settledByWebhook(res.body.id, final);
    }
  }, 30_000);

  it('100 concurrent POSTs with one key: one PaymentIntent, identical answers; other body -> 409', async () => {
    const key = randomUUID();
    const body = { amount: 777, currency: 'usd', paymentMethodId: visa, orderReference: 'ORD-IDEM' };
    const answers = await Promise.all(Array.from({ length: 100 }, () => pay(a.owner, body, key)));
    expect(new Set(answers.map((r) => r.status))).toEqual(new Set([201]));
    for (const r of answers) expect(r.body).toEqual(answers[0]?.body);
    const rows = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM payments WHERE order_reference = 'ORD-IDEM'`,
    );
    expect(rows[0]?.n).toBe(1);
    const intents = await w.stripe.paymentIntents.list({ customer: a.customerId, limit: 100 });
    expect(intents.data.filter((pi) => pi.metadata?.order_reference === 'ORD-IDEM')).toHaveLength(1);
    const other = await pay(a.owner, { ...body, amount: 778 }, key);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  }, 60_000);

  it('rejects bad input with 400 and a code, writing nothing and creating no PaymentIntent', async () => {
    const count = async () =>
      (
        await w.t.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM payments WHERE account_id = $1`, [
          a.accountId,
        ])
      )[0]?.n;
    const newestIntent = async () =>
      (await w.stripe.paymentIntents.list({ customer: a.customerId, limit: 1 })).data[0]?.id;
    const before = await count();
    const intentBefore = await newestIntent();
    const good = { amount: 100, currency: 'usd', paymentMethodId: visa };
    const { amount: _a, ...noAmount } = good;
    const { currency: _c, ...noCurrency } = good;
    const { paymentMethodId: _p, ...noMethod } = good;
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    const cases: [string, Record<string, unknown>, string][] = [
      ['zero', { ...good, amount: 0 }, 'validation_failed'],
      ['negative', { ...good, amount: -5 }, 'validation_failed'],
      ['fractional', { ...good, amount: 10.5 }, 'validation_failed'],
      ['string amount', { ...good, amount: '100' }, 'validation_failed'],
      ['over the configured max', { ...good, amount: 1_000_001 }, 'amount_too_large'],
      ['over Stripe’s max', { ...good, amount: 100_000_000 }, 'amount_too_large'],
      ['huge', { ...good, amount: 1e20 }, 'invalid_amount'],
      ['below the USD minimum', { ...good, amount: 49 }, 'amount_too_small'],
      ['below the JPY minimum', { ...good, amount: 49, currency: 'jpy' }, 'amount_too_small'],
      ['KWD not ending in 0', { ...good, amount: 1005, currency: 'kwd' }, 'invalid_amount'],
      ['unknown currency', { ...good, currency: 'xyz' }, 'unsupported_currency'],
      ['missing amount', noAmount, 'validation_failed'],
      ['missing currency', noCurrency, 'validation_failed'],
      ['missing method', noMethod, 'validation_failed'],
      ['extra field', { ...good, capture: false }, 'validation_failed'],
      ['51 metadata keys', { ...good, metadata: keys(51) }, 'validation_failed'],
      [
        '48 metadata keys (Stripe’s 50 less the 3 reserved)',
        { ...good, metadata: keys(48) },
        'validation_failed',
      ],
      ['reserved key payment_id', { ...good, metadata: { payment_id: 'x' } }, 'validation_failed'],
      ['reserved key account_id', { ...good, metadata: { account_id: 'x' } }, 'validation_failed'],
      ['reserved key order_reference', { ...good, metadata: { order_reference: 'x' } }, 'validation_failed'],
      ['non-string metadata', { ...good, metadata: { n: 1 } }, 'validation_failed'],
      ['card number in metadata', { ...good, metadata: { note: '4242424242424242' } }, 'card_data_forbidden'],
    ];
    for (const [name, body, code] of cases) {
      const res = await pay(a.owner, body);
      expect({ name, status: res.status, code: res.body.error?.code }).toEqual({ name, status: 400, code });
    }
    expect(await count()).toBe(before);
    expect(await newestIntent()).toBe(intentBefore);
  }, 30_000);

  it('says which amount limit was broken and which metadata rule, in the error', async () => {
    const small = await pay(a.owner, { amount: 49, currency: 'usd', paymentMethodId: visa });
    expect(small.body.error).toMatchObject({
      code: 'amount_too_small',
      param: 'amount',
      details: { amount: 49, currency: 'usd', minimum: 50 },
    });
    const kwd = await pay(a.owner, { amount: 1005, currency: 'KWD', paymentMethodId: visa });
    expect(kwd.body.error).toMatchObject({
      code: 'invalid_amount',
      param: 'amount',
      details: { currency: 'kwd', multipleOf: 10 },
    });
    const large = await pay(a.owner, { amount: 100_000_000, currency: 'usd', paymentMethodId: visa });
    expect(large.body.error).toMatchObject({
      code: 'amount_too_large',
      details: { maximum: 99_999_999, limit: 'stripe' },
    });
    const configured = await pay(a.owner, { amount: 1_000_001, currency: 'jpy', paymentMethodId: visa });
    expect(configured.body.error).toMatchObject({
      code: 'amount_too_large',
      details: { maximum: 1_000_000, limit: 'configured' },
    });
    const reserved = await pay(a.owner, {
      amount: 100,
      currency: 'usd',
      paymentMethodId: visa,
      metadata: { order_reference: 'ORD-9' },
    });
    expect(reserved.body.error).toMatchObject({ code: 'validation_failed', param: 'metadata' });
    expect((reserved.body.error as { message?: string }).message).toContain("'order_reference' is reserved");
  }, 30_000);

  it('accepts 47 metadata keys: with the 3 the service adds, the PaymentIntent holds Stripe’s 50', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`k${i}`, `v${i}`]));
    const res = await pay(a.owner, {
      amount: 1500,
      currency: 'usd',
      paymentMethodId: visa,
      orderReference: 'ORD-47',
      metadata,
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('succeeded');
    const pi = await w.stripe.paymentIntents.retrieve(res.body.stripePaymentIntentId ?? '');
    expect(Object.keys(pi.metadata)).toHaveLength(50);
    expect(pi.metadata).toMatchObject({
      ...metadata,
      payment_id: res.body.id,
      account_id: a.accountId,
      order_reference: 'ORD-47',
    });
  }, 30_000);

  it.each([
    ['jpy', 500],
    ['kwd', 1250],
  ])(
    'charges %s %d minor units through the API: succeeded, the PaymentIntent in that currency',
    async (currency, amount) => {
      const res = await pay(a.owner, { amount, currency: currency.toUpperCase(), paymentMethodId: visa });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'succeeded', amount, currency });
      const pi = await w.stripe.paymentIntents.retrieve(res.body.stripePaymentIntentId ?? '');
      expect(pi).toMatchObject({ amount, currency, status: 'succeeded', amount_received: amount });
      await settledByWebhook(res.body.id, 'succeeded');
      const stored = await row(res.body.id);
      expect([Number(stored?.amount), stored?.currency, Number(stored?.amount_received)]).toEqual([
        amount,
        currency,
        amount,
      ]);
    },
    30_000,
  );

  it('another account’s payment method is 404; a member is 403; no key is 400', async () => {
    const other = await accountWithCustomer(w);
    const res = await pay(other.owner, { amount: 100, currency: 'usd', paymentMethodId: visa });
    expect(res.status).toBe(404);
    expect((await pay(a.member, { amount: 100, currency: 'usd', paymentMethodId: visa })).status).toBe(403);
    const noKey = await http<ErrorBody>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 100, currency: 'usd', paymentMethodId: visa },
    });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.code).toBe('idempotency_key_required');
  }, 30_000);
});
