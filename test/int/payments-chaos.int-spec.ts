import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreatePaymentHandler } from '../../apps/billing-api/src/modules/payments/commands/create-payment/create-payment.handler.js';
import { PaymentOrmEntity } from '../../apps/billing-api/src/modules/payments/persistence/payment.orm-entity.js';
import { PaymentsJanitor } from '../../apps/billing-api/src/modules/payments/jobs/payments-janitor.processor.js';
import { RefundsJanitor } from '../../apps/billing-api/src/modules/refunds/jobs/refunds-janitor.processor.js';
import { JobQueue } from '../../apps/billing-api/src/platform/queue/job-queue.js';
import { StripeGateway } from '../../apps/billing-api/src/platform/stripe/stripe.gateway.js';
import { tokenFor } from '../support/test-app.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  startPaymentsWorld,
  until,
  webhooksSettled,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';

interface PaymentBody {
  id: string;
  status: string;
}

// Stripe unreachable, failing or throttling: the payment is `unknown` (202), never `failed`, and the
// janitor settles it through the same idempotency key: one PaymentIntent per payment, whatever happens.
describe('payments under emulator failure injection', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let visa: string;
  let janitor: PaymentsJanitor;

  const chaos = async (body: Record<string, unknown>) => {
    const res = await fetch(`${w.kit.emulator.url}/_emulator/chaos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`chaos answered ${res.status}`);
  };
  const intentsOf = async (paymentId: string) =>
    (await w.stripe.paymentIntents.list({ customer: a.customerId, limit: 100 })).data.filter(
      (pi) => pi.metadata?.payment_id === paymentId,
    );
  const status = async (id: string) =>
    (await w.t.db.query<{ status: string }[]>(`SELECT status FROM payments WHERE id = $1`, [id]))[0]?.status;

  beforeAll(async () => {
    w = await startPaymentsWorld({ STRIPE_MAX_NETWORK_RETRIES: '1', STRIPE_TIMEOUT_MS: '400' });
    a = await accountWithCustomer(w);
    visa = await attachMethod(w, a, 'pm_card_visa');
    janitor = w.t.app.get(PaymentsJanitor, { strict: false });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it.each([
    ['500s', { failureRate: 1 }],
    ['429s', { rateLimitRate: 1 }],
    ['timeouts', { latencyMs: 1500 }],
    // The PaymentIntent is created and confirmed at Stripe, but no answer arrives (nor the SDK's retry's),
    // and its webhooks are lost too: only the janitor, re-asking Stripe, can learn the outcome.
    ['lost responses', { lostResponseRate: 1, webhookDropRate: 1 }],
  ])(
    '%s -> 202 unknown, then the janitor settles it with one PaymentIntent',
    async (_name, switches) => {
      await chaos(switches);
      const key = randomUUID();
      const request = {
        token: a.owner,
        body: { amount: 1234, currency: 'usd', paymentMethodId: visa },
        headers: { 'idempotency-key': key },
      };
      const res = await http<PaymentBody>(w.t.url, 'POST', '/v1/payments', request);
      await chaos({ reset: true });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('unknown');
      // A client retry with the same key replays the first answer, status included.
      const replay = await http<PaymentBody>(w.t.url, 'POST', '/v1/payments', request);
      expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
      expect(replay.body).toEqual(res.body);
      // A timed-out request may still be running at the emulator: the janitor runs until it is settled.
      await until(
        async () => {
          await janitor.run();
          return (await status(res.body.id)) === 'succeeded';
        },
        'settled by the janitor',
        15_000,
      );
      expect(await intentsOf(res.body.id)).toHaveLength(1);
      // Running again changes nothing and creates nothing.
      await janitor.run();
      expect(await intentsOf(res.body.id)).toHaveLength(1);
      expect(await status(res.body.id)).toBe('succeeded');
    },
    30_000,
  );

  it("a 500 on the first attempt only: the SDK's own retry, same key, succeeds -> 201 and one PaymentIntent", async () => {
    // Nothing else may call the emulator meanwhile: earlier tests' webhooks are all delivered and applied.
    await w.kit.emulator.delivery.idle();
    await until(async () => {
      const rows = await w.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_events WHERE status IN ('pending', 'processing')`,
      );
      return rows[0]?.n === 0;
    }, 'webhook inbox drained');
    // Exactly the next call fails (a 500 `api_error` before the call runs), and every later one passes.
    await chaos({ failNext: 1 });
    const res = await http<PaymentBody & { stripePaymentIntentId: string }>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 4200, currency: 'usd', paymentMethodId: visa },
      headers: { 'idempotency-key': randomUUID() },
    });
    const left = (await (await fetch(`${w.kit.emulator.url}/_emulator/chaos`)).json()) as {
      failNext: number;
    };
    await chaos({ reset: true });
    expect(left.failNext).toBe(0);
    expect([res.status, res.body.status]).toEqual([201, 'succeeded']);
    const intents = await intentsOf(res.body.id);
    expect(intents.map((pi) => pi.id)).toEqual([res.body.stripePaymentIntentId]);
    // The attempt that went through carried the key derived from our payment (the SDK reuses it).
    const created = (await w.stripe.events.list({ type: 'payment_intent.created', limit: 100 })).data.find(
      (e) => (e.data.object as { id: string }).id === res.body.stripePaymentIntentId,
    );
    expect(created?.request?.idempotency_key).toBe(
      StripeGateway.idempotencyKey('payment.create', res.body.id),
    );
    expect(await status(res.body.id)).toBe('succeeded');
  }, 30_000);

  it('Server-Timing tells the time spent waiting on Stripe from our own (seed 001)', async () => {
    await chaos({ latencyMs: 200 });
    const started = performance.now();
    const res = await http<PaymentBody>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 1500, currency: 'usd', paymentMethodId: visa },
      headers: { 'idempotency-key': randomUUID() },
    });
    const elapsed = performance.now() - started;
    await chaos({ reset: true });
    expect(res.status).toBe(201);
    const stripeMs = Number(/^stripe;dur=(\d+(?:\.\d+)?)$/.exec(res.headers.get('server-timing') ?? '')?.[1]);
    expect(stripeMs).toBeGreaterThanOrEqual(200);
    expect(stripeMs).toBeLessThanOrEqual(elapsed);
    // A request that never calls Stripe carries no Stripe timing.
    const list = await http(w.t.url, 'GET', '/v1/payments', { token: a.owner });
    expect(list.status).toBe(200);
    expect(list.headers.get('server-timing')).toBeNull();
  }, 30_000);

  it('a payment left pending by a crash before Stripe was called is created by the janitor, once', async () => {
    const id = randomUUID();
    const createdAt = new Date(w.t.clock.now().getTime() - 3 * 60 * 1000);
    await w.t.db.query(
      `INSERT INTO payments (id, account_id, stripe_customer_id, amount, currency, status, amount_received,
         amount_refunded, metadata, stripe_payment_method_id, origin, version, created_at, updated_at)
       VALUES ($1, $2, $3, 4321, 'usd', 'pending', 0, 0, '{}', $4, 'api', 1, $5, $5)`,
      [id, a.accountId, a.customerId, visa, createdAt],
    );
    // A fresh pending payment (its request may still be running) is left alone.
    const fresh = randomUUID();
    await w.t.db.query(
      `INSERT INTO payments (id, account_id, stripe_customer_id, amount, currency, status, amount_received,
         amount_refunded, metadata, stripe_payment_method_id, origin, version, created_at, updated_at)
       VALUES ($1, $2, $3, 999, 'usd', 'pending', 0, 0, '{}', $4, 'api', 1, $5, $5)`,
      [fresh, a.accountId, a.customerId, visa, w.t.clock.now()],
    );
    await janitor.run();
    expect(await status(id)).toBe('succeeded');
    expect(await intentsOf(id)).toHaveLength(1);
    expect(await status(fresh)).toBe('pending');
    expect(await intentsOf(fresh)).toHaveLength(0);
    await janitor.run();
    expect(await intentsOf(id)).toHaveLength(1);
  }, 30_000);

  it("a day later Stripe's idempotency key may be gone: the janitor finds the PaymentIntent Stripe made instead of creating another, and cancels a payment Stripe never saw", async () => {
    const dayAgo = new Date(w.t.clock.now().getTime() - 25 * 60 * 60 * 1000);
    const insert = async (
      id: string,
      state: 'unknown' | 'pending',
      customer: string | null = a.customerId,
    ) => {
      await w.t.db.query(
        `INSERT INTO payments (id, account_id, stripe_customer_id, amount, currency, status, amount_received,
           amount_refunded, metadata, stripe_payment_method_id, origin, version, created_at, updated_at)
         VALUES ($1, $2, $3, 2500, 'usd', $4, 0, 0, '{}', $5, 'api', 1, $6, $6)`,
        [id, a.accountId, customer, state, visa, dayAgo],
      );
    };
    // Stripe made this one (our request timed out), under another key than the one a retry would send.
    const reached = randomUUID();
    // Its webhook would tell the payment its PaymentIntent: held back, so that the janitor must find it.
    const webhooks = w.t.app.get(JobQueue).queueFor('webhooks.process-event');
    await webhooks.pause(true);
    try {
      // Made before the row is there, as it was a day ago: the app's own janitor (every minute) must
      // never see the row without it.
      const made = await w.stripe.paymentIntents.create({
        amount: 2500,
        currency: 'usd',
        customer: a.customerId,
        payment_method: visa,
        confirm: true,
        metadata: { payment_id: reached, account_id: a.accountId },
      });
      await insert(reached, 'unknown');
      // This one never reached Stripe (a crash before the call, or a refusal before it ran).
      const never = randomUUID();
      await insert(never, 'pending');
      // Without a customer to look under, whether Stripe made one cannot be told: left for an operator.
      const unknowable = randomUUID();
      await insert(unknowable, 'unknown', null);
      await janitor.run();
      expect(await status(unknowable)).toBe('unknown');
      expect(await status(reached)).toBe('succeeded');
      expect((await intentsOf(reached)).map((pi) => pi.id)).toEqual([made.id]);
      const [linked] = await w.t.db.query<{ stripe_payment_intent_id: string }[]>(
        `SELECT stripe_payment_intent_id FROM payments WHERE id = $1`,
        [reached],
      );
      expect(linked?.stripe_payment_intent_id).toBe(made.id);
      expect(await status(never)).toBe('canceled');
      expect(await intentsOf(never)).toEqual([]);
      // Settled: the next run leaves both alone.
      await janitor.run();
      expect([await intentsOf(reached), await intentsOf(never)].map((l) => l.length)).toEqual([1, 0]);
    } finally {
      await webhooks.resume(true);
    }
  }, 30_000);

  it.each([
    ['as written by this request: one version-checked statement', 0],
    ['after a webhook moved the row first: applied under the row lock', 1],
  ])("Stripe's answer to a payment %s", async (_name, concurrentChanges) => {
    const id = randomUUID();
    await w.t.db.query(
      `INSERT INTO payments (id, account_id, stripe_customer_id, amount, currency, status, amount_received,
         amount_refunded, metadata, stripe_payment_method_id, origin, version, created_at, updated_at)
       VALUES ($1, $2, $3, 777, 'usd', 'pending', 0, 0, '{}', $4, 'api', 1, $5, $5)`,
      [id, a.accountId, a.customerId, visa, w.t.clock.now()],
    );
    const written = await w.t.db.getRepository(PaymentOrmEntity).findOneByOrFail({ id });
    // Another writer (a webhook) bumps the version after this request wrote the row.
    for (let i = 0; i < concurrentChanges; i++)
      await w.t.db.query(`UPDATE payments SET version = version + 1 WHERE id = $1`, [id]);
    // The PaymentIntent's own webhooks are held back so that only the writers above touch the row.
    await chaos({ webhookDelayMs: 60_000 });
    const result = await w.t.app.get(CreatePaymentHandler, { strict: false }).attempt(id, written);
    expect(result.payment.status).toBe('succeeded');
    const [row] = await w.t.db.query<{ status: string; version: number; stripe_payment_intent_id: string }[]>(
      `SELECT status, version, stripe_payment_intent_id FROM payments WHERE id = $1`,
      [id],
    );
    expect(row).toMatchObject({ status: 'succeeded', version: 2 + concurrentChanges });
    expect(row?.stripe_payment_intent_id).toMatch(/^pi_/);
    const history = await w.t.db.query<{ from_status: string; to_status: string }[]>(
      `SELECT from_status, to_status FROM payment_status_history WHERE payment_id = $1 AND to_status = 'succeeded'`,
      [id],
    );
    expect(history).toHaveLength(1);
    const audit = await w.t.db.query<{ after: { status: string } }[]>(
      `SELECT after FROM audit_log WHERE entity_id = $1 AND action = 'payment.status_changed'`,
      [id],
    );
    expect(audit.map((r) => r.after.status)).toContain('succeeded');
    // What follows the change (written with it, or under the lock after the version check missed): once.
    const follows = await w.t.db.query<{ receipts: number; mails: number; events: number }[]>(
      `SELECT (SELECT count(*)::int FROM receipts WHERE payment_id = $1) AS receipts,
              (SELECT count(*)::int FROM notifications WHERE dedupe_key = $2) AS mails,
              (SELECT count(*)::int FROM integration_events WHERE subject_id = $1) AS events`,
      [id, `receipt:${id}`],
    );
    expect(follows).toEqual([{ receipts: 1, mails: 1, events: 1 }]);
    await chaos({ reset: true });
  });

  it("an answer older than what the webhooks applied does not move the payment back: Stripe's current PaymentIntent decides", async () => {
    const pm = await attachMethod(w, a, 'pm_card_authenticationRequired');
    const res = await http<PaymentBody & { nextAction: { redirectUrl: string } | null }>(
      w.t.url,
      'POST',
      '/v1/payments',
      {
        token: a.owner,
        body: { amount: 2600, currency: 'usd', paymentMethodId: pm },
        headers: { 'idempotency-key': randomUUID() },
      },
    );
    expect([res.status, res.body.status]).toEqual([201, 'requires_action']);
    const written = await w.t.db.getRepository(PaymentOrmEntity).findOneByOrFail({ id: res.body.id });
    // The customer fails the challenge; its webhook makes the payment failed.
    const done = await fetch(`${res.body.nextAction?.redirectUrl ?? ''}?result=fail`, {
      method: 'POST',
      redirect: 'manual',
    });
    expect(done.status).toBeLessThan(400);
    await until(async () => (await status(res.body.id)) === 'failed', 'failed by its webhook');
    // Stripe's first answer (requires_action) arrives again, for the row as this request first wrote it:
    // the same key's replay, as a retry or a slow first answer would bring it.
    const history = async () =>
      (
        await w.t.db.query<{ to_status: string }[]>(
          `SELECT to_status FROM payment_status_history WHERE payment_id = $1 ORDER BY id`,
          [res.body.id],
        )
      ).map((h) => h.to_status);
    const before = await history();
    const again = await w.t.app
      .get(CreatePaymentHandler, { strict: false })
      .attempt(res.body.id, { ...written, status: 'pending', version: 1 })
      .catch((error: unknown) => error);
    expect(again).toMatchObject({ code: 'card_declined' });
    expect(await status(res.body.id)).toBe('failed');
    expect(await history()).toEqual(before);
  }, 30_000);

  it("the API's answer lands before the webhooks: receipt, its e-mail and payment.succeeded once (R-PAY-4)", async () => {
    await chaos({ webhookDelayMs: 1500 });
    const res = await http<PaymentBody & { stripePaymentIntentId: string }>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 3100, currency: 'usd', paymentMethodId: visa },
      headers: { 'idempotency-key': randomUUID() },
    });
    await chaos({ reset: true });
    expect([res.status, res.body.status]).toEqual([201, 'succeeded']);
    const effects = async () => ({
      receipts: await w.t.db.query<{ number: number; method_brand: string | null }[]>(
        `SELECT number::int AS number, method_brand FROM receipts WHERE payment_id = $1`,
        [res.body.id],
      ),
      mails: await w.t.db.query<{ template: string }[]>(
        `SELECT template FROM notifications WHERE dedupe_key = $1`,
        [`receipt:${res.body.id}`],
      ),
      events: await w.t.db.query<{ type: string }[]>(
        `SELECT type FROM integration_events WHERE subject_id = $1 ORDER BY created_at`,
        [res.body.id],
      ),
      webhooksApplied: await w.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_events
          WHERE payload->'data'->'object'->>'id' = $1 AND status = 'processed'`,
        [res.body.stripePaymentIntentId],
      ),
    });
    // Before any webhook: the API path made the receipt, queued its e-mail and recorded the event.
    const before = await effects();
    expect(before.webhooksApplied[0]?.n).toBe(0);
    expect(before.receipts).toEqual([{ number: expect.any(Number), method_brand: 'visa' }]);
    expect(before.mails).toEqual([{ template: 'payment_succeeded' }]);
    expect(before.events.map((e) => e.type)).toEqual(['payment.succeeded']);
    // The webhooks then find the payment succeeded already: nothing more.
    await webhooksSettled(w, res.body.stripePaymentIntentId);
    const after = await effects();
    expect(after.webhooksApplied[0]?.n).toBeGreaterThan(0);
    expect({ ...after, webhooksApplied: [] }).toEqual({ ...before, webhooksApplied: [] });
  }, 30_000);

  it('a refund Stripe refuses outright is failed by the API path, with its refund.failed integration event once', async () => {
    const paid = await http<{ id: string; stripePaymentIntentId: string }>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 2200, currency: 'usd', paymentMethodId: visa },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(paid.status).toBe(201);
    await webhooksSettled(w, paid.body.stripePaymentIntentId);
    // Refunded in Stripe's dashboard while its webhooks are held back: the app still sees it refundable.
    await chaos({ webhookDelayMs: 60_000 });
    await w.stripe.refunds.create({ payment_intent: paid.body.stripePaymentIntentId });
    const finance = await tokenFor({ sub: 'fin-refused', role: 'finance' });
    const refused = await http<{ error: { code: string } }>(
      w.t.url,
      'POST',
      `/v1/payments/${paid.body.id}/refunds`,
      { token: finance, body: { reason: 'duplicate' }, headers: { 'idempotency-key': randomUUID() } },
    );
    // Read while the webhooks are still held back: what is there was written by the API path.
    const rows = await w.t.db.query<{ id: string; status: string; failure_reason: string }[]>(
      `SELECT id, status, failure_reason FROM refunds WHERE payment_id = $1 AND origin = 'api'`,
      [paid.body.id],
    );
    const byTheApi = (
      await w.t.db.query<{ type: string; dedupe_key: string }[]>(
        `SELECT type, dedupe_key FROM integration_events WHERE subject_id = $1`,
        [rows[0]?.id],
      )
    ).map((e) => [e.type, e.dedupe_key]);
    await chaos({ reset: true });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'refund_exceeds_remaining']);
    expect(rows.map((r) => [r.status, r.failure_reason])).toEqual([['failed', 'charge_already_refunded']]);
    expect(byTheApi).toEqual([['refund.failed', `refund.failed:${rows[0]?.id}`]]);
  }, 30_000);

  it('a refund whose Stripe call failed stays pending (holding its amount) and is sent once by the janitor', async () => {
    const paid = await http<{ id: string; stripePaymentIntentId: string }>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 2000, currency: 'usd', paymentMethodId: visa },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(paid.status).toBe(201);
    await webhooksSettled(w, paid.body.stripePaymentIntentId);
    const finance = await tokenFor({ sub: 'fin-chaos', role: 'finance' });
    await chaos({ failureRate: 1 });
    const res = await http<{ id: string; status: string; stripeRefundId: string | null }>(
      w.t.url,
      'POST',
      `/v1/payments/${paid.body.id}/refunds`,
      {
        token: finance,
        body: { amount: 1500, reason: 'duplicate' },
        headers: { 'idempotency-key': randomUUID() },
      },
    );
    await chaos({ reset: true });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'pending', stripeRefundId: null });
    // It holds its amount: another 1000 would exceed the 2000 captured.
    const over = await http<{ error: { code: string } }>(
      w.t.url,
      'POST',
      `/v1/payments/${paid.body.id}/refunds`,
      {
        token: finance,
        body: { amount: 1000, reason: 'duplicate' },
        headers: { 'idempotency-key': randomUUID() },
      },
    );
    expect(over.body.error.code).toBe('refund_exceeds_remaining');
    const refundsJanitor = w.t.app.get(RefundsJanitor, { strict: false });
    w.t.clock.advance(3 * 60 * 1000);
    await refundsJanitor.run();
    await refundsJanitor.run();
    const atStripe = (await w.stripe.refunds.list({ limit: 100 })).data.filter(
      (r) => r.metadata?.refund_id === res.body.id,
    );
    expect(atStripe.map((r) => r.amount)).toEqual([1500]);
    await until(async () => {
      const rows = await w.t.db.query<{ status: string }[]>(`SELECT status FROM payments WHERE id = $1`, [
        paid.body.id,
      ]);
      return rows[0]?.status === 'partially_refunded';
    }, 'refund applied by webhook');
  }, 30_000);
});
