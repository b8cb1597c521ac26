import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { PaymentsJanitor } from '../../apps/billing-api/src/modules/payments/jobs/payments-janitor.processor.js';
import { RefundsJanitor } from '../../apps/billing-api/src/modules/refunds/jobs/refunds-janitor.processor.js';
import { tokenFor } from '../support/test-app.js';
import { requestFingerprint } from '../../apps/billing-api/src/platform/idempotency/canonical-json.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  paySucceeded,
  savedDeclineCard,
  startPaymentsWorld,
  type PaymentsWorld,
  until,
  type TestAccount,
} from './payments-support.js';

interface PaymentBody {
  id: string;
  status: string;
  description: string | null;
}
interface ErrorBody {
  error: { code: string; param?: string; details?: { payment_id?: string } };
}

const LOCK_TIMEOUT_MS = 60_000;

// Issue 16: one Idempotency-Key, one payment and one charge, whatever fails after the key is claimed;
// and a request refused before executing does not keep its key.
describe('POST /v1/payments: one key, one charge (issue 16)', () => {
  let w: PaymentsWorld;
  let janitor: PaymentsJanitor;
  let started: Date;

  beforeAll(async () => {
    // A short wait for a concurrent first request: a key still held answers 409 quickly.
    w = await startPaymentsWorld({ IDEMPOTENCY_WAIT_MS: '300' });
    janitor = w.t.app.get(PaymentsJanitor, { strict: false });
    started = w.t.clock.now();
    await w.t.db.query(`CREATE SEQUENCE IF NOT EXISTS fault_once`);
    // Faults injected in PostgreSQL, each once (a sequence is not rolled back with the failed statement).
    await w.t.db.query(`
      CREATE OR REPLACE FUNCTION inject_store_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'completed' AND NEW.key LIKE 'fault-store-%' THEN
          IF nextval('fault_once') % 2 = 1 THEN RAISE EXCEPTION 'injected: answer not stored'; END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await w.t.db.query(`DROP TRIGGER IF EXISTS inject_store_fault ON idempotency_keys`);
    await w.t.db.query(`CREATE TRIGGER inject_store_fault BEFORE UPDATE ON idempotency_keys
      FOR EACH ROW EXECUTE FUNCTION inject_store_fault()`);
    // The apply and refund faults are switched on and off by the test around its first request: the API and the
    // webhook mirror race to write the outcome, so a fault that fired once could hit the webhook and spare the API.
    await w.t.db.query(`CREATE TABLE IF NOT EXISTS injected_faults (tag text PRIMARY KEY)`);
    await w.t.db.query(`
      CREATE OR REPLACE FUNCTION inject_apply_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status = 'pending' AND NEW.status <> 'pending'
           AND EXISTS (SELECT 1 FROM injected_faults WHERE tag = NEW.description) THEN
          RAISE EXCEPTION 'injected: answer not applied';
        END IF;
        RETURN NEW;
      END $$`);
    await w.t.db.query(`DROP TRIGGER IF EXISTS inject_apply_fault ON payments`);
    await w.t.db.query(`CREATE TRIGGER inject_apply_fault BEFORE UPDATE ON payments
      FOR EACH ROW EXECUTE FUNCTION inject_apply_fault()`);
    await w.t.db.query(`
      CREATE OR REPLACE FUNCTION inject_refund_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.stripe_refund_id IS NULL AND NEW.stripe_refund_id IS NOT NULL
           AND EXISTS (SELECT 1 FROM injected_faults WHERE tag = NEW.note) THEN
          RAISE EXCEPTION 'injected: refund answer not applied';
        END IF;
        RETURN NEW;
      END $$`);
    await w.t.db.query(`DROP TRIGGER IF EXISTS inject_refund_fault ON refunds`);
    await w.t.db.query(`CREATE TRIGGER inject_refund_fault BEFORE UPDATE ON refunds
      FOR EACH ROW EXECUTE FUNCTION inject_refund_fault()`);
  }, 60_000);
  afterEach(async () => {
    w.t.clock.set(started);
    // Each fault fires once per test: the sequence restarts at an odd number.
    await w.t.db.query(`SELECT setval('fault_once', 2, true)`);
  });
  afterAll(async () => {
    await w?.t.db.query(`DROP TRIGGER IF EXISTS inject_store_fault ON idempotency_keys`);
    await w?.t.db.query(`DROP TRIGGER IF EXISTS inject_apply_fault ON payments`);
    await w?.t.db.query(`DROP TRIGGER IF EXISTS inject_refund_fault ON refunds`);
    await w?.t.db.query(`DROP TABLE IF EXISTS injected_faults`);
    await w?.close();
  });

  /** Runs `request` with the fault tagged `tag` switched on: every write of that outcome fails until it returns. */
  const withFault = async <T>(tag: string, request: () => Promise<T>): Promise<T> => {
    await w.t.db.query(`INSERT INTO injected_faults (tag) VALUES ($1)`, [tag]);
    try {
      return await request();
    } finally {
      await w.t.db.query(`DELETE FROM injected_faults WHERE tag = $1`, [tag]);
    }
  };
  const pay = (a: TestAccount, body: Record<string, unknown>, key: string) =>
    http<PaymentBody & ErrorBody>(w.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body,
      headers: { 'idempotency-key': key },
    });
  const paymentsOf = async (a: TestAccount) =>
    w.t.db.query<{ id: string; status: string }[]>(`SELECT id, status FROM payments WHERE account_id = $1`, [
      a.accountId,
    ]);
  const intentsOf = async (a: TestAccount) =>
    (await w.stripe.paymentIntents.list({ customer: a.customerId, limit: 100 })).data;
  const freshAccount = async (): Promise<{ a: TestAccount; visa: string }> => {
    const a = await accountWithCustomer(w);
    return { a, visa: await attachMethod(w, a, 'pm_card_visa') };
  };

  it('a lone surrogate in the description: never a 5xx, and a retry after the lock timeout charges nothing more', async () => {
    const { a, visa } = await freshAccount();
    const key = randomUUID();
    const body = { amount: 1500, currency: 'usd', paymentMethodId: visa, description: 'cut emoji \ud800' };
    const first = await pay(a, body, key);
    // Refused at validation (400) or accepted (its outcome stored); never a 500 with the key left claimed.
    expect(first.status).toBeLessThan(500);
    await janitor.run();
    w.t.clock.advance(LOCK_TIMEOUT_MS + 1_000);
    const retry = await pay(a, body, key);
    await janitor.run();
    // Accepted, its answer is replayed; refused at validation, the retry is refused alike.
    expect(retry.status).toBe(first.status);
    expect(retry.headers.get('idempotent-replayed')).toBe(first.status < 400 ? 'true' : null);
    expect(retry.body.id).toBe(first.body.id);
    const payments = await paymentsOf(a);
    const intents = await intentsOf(a);
    expect(payments.length).toBeLessThanOrEqual(1);
    expect(intents).toHaveLength(payments.length);
    expect(intents.every((pi) => pi.metadata?.payment_id === payments[0]?.id)).toBe(true);
  }, 60_000);

  it('the answer cannot be stored after the charge: the retry is answered from the payment, one payment and one charge', async () => {
    const { a, visa } = await freshAccount();
    const key = `fault-store-${randomUUID()}`;
    const body = { amount: 2100, currency: 'usd', paymentMethodId: visa };
    const first = await pay(a, body, key);
    expect(first.status).toBe(500);
    const [payment, ...others] = await paymentsOf(a);
    expect(others).toHaveLength(0);
    expect(payment?.status).toBe('succeeded');
    // Even past the lock timeout (a crashed process's key is taken over then), the handler never runs again.
    w.t.clock.advance(LOCK_TIMEOUT_MS + 1_000);
    const retry = await pay(a, body, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toMatchObject({ id: payment?.id, status: 'succeeded' });
    const again = await pay(a, body, key);
    expect(again.body).toEqual(retry.body);
    expect(await paymentsOf(a)).toHaveLength(1);
    expect(await intentsOf(a)).toHaveLength(1);
  }, 60_000);

  it('the handler fails after Stripe charged: answered from the payment once it is settled (409 idempotency_key_in_use until then); never a second charge', async () => {
    const { a, visa } = await freshAccount();
    const key = randomUUID();
    const body = { amount: 2200, currency: 'usd', paymentMethodId: visa, description: `fault-apply-${key}` };
    const first = await withFault(body.description, () => pay(a, body, key));
    expect(first.status).toBe(500);
    expect(await intentsOf(a)).toHaveLength(1);
    // The webhooks or the janitor (for a payment left pending this long) settle it, by the same Stripe key.
    w.t.clock.advance(3 * 60_000);
    const interim: string[] = [];
    const settled = await until(async () => {
      const retry = await pay(a, body, key);
      if (retry.status === 201) return retry;
      interim.push(`${retry.status} ${retry.body.error?.code}`);
      await janitor.run();
      return null;
    }, 'the retry answered from the payment');
    expect(interim.every((x) => x === '409 idempotency_key_in_use')).toBe(true);
    expect(settled.headers.get('idempotent-replayed')).toBe('true');
    expect(settled.body.status).toBe('succeeded');
    expect(await paymentsOf(a)).toEqual([{ id: settled.body.id, status: 'succeeded' }]);
    expect(await intentsOf(a)).toHaveLength(1);
  }, 60_000);

  it('a process that died after writing the payment (its key linked, the outcome unknown): 409 idempotency_key_in_use until it is settled, then the payment', async () => {
    const { a, visa } = await freshAccount();
    const key = randomUUID();
    const body = { amount: 2400, currency: 'usd', paymentMethodId: visa };
    const now = w.t.clock.now();
    const paymentId = randomUUID();
    await w.t.db.query(
      `INSERT INTO payments (id, account_id, stripe_customer_id, amount, currency, status, amount_received,
         amount_refunded, metadata, stripe_payment_method_id, origin, version, created_at, updated_at)
       VALUES ($1, $2, $3, 2400, 'usd', 'unknown', 0, 0, '{}', $4, 'api', 1, $5, $5)`,
      [paymentId, a.accountId, a.customerId, visa, now],
    );
    await w.t.db.query(
      `INSERT INTO idempotency_keys (scope, key, method, path, request_hash, status, resource_id, locked_at, created_at, expires_at)
       VALUES ($1, $2, 'POST', '/v1/payments', $3, 'in_progress', $4, $5, $5, $6)`,
      [
        a.accountId,
        key,
        requestFingerprint('POST', '/v1/payments', body),
        paymentId,
        now,
        new Date(now.getTime() + 3_600_000),
      ],
    );
    const held = await pay(a, body, key);
    expect([held.status, held.body.error?.code]).toEqual([409, 'idempotency_request_in_progress']);
    w.t.clock.advance(LOCK_TIMEOUT_MS + 1_000);
    const unknown = await pay(a, body, key);
    expect([unknown.status, unknown.body.error?.code]).toEqual([409, 'idempotency_key_in_use']);
    expect(await intentsOf(a)).toHaveLength(0);
    await janitor.run();
    const settled = await pay(a, body, key);
    expect(settled.status).toBe(201);
    expect(settled.body).toMatchObject({ id: paymentId, status: 'succeeded' });
    expect(await paymentsOf(a)).toEqual([{ id: paymentId, status: 'succeeded' }]);
    expect(await intentsOf(a)).toHaveLength(1);
  }, 60_000);

  it('a claim left by a crash before the payment was written is taken over after the lock timeout and runs once', async () => {
    const { a, visa } = await freshAccount();
    const key = randomUUID();
    const body = { amount: 2300, currency: 'usd', paymentMethodId: visa };
    const now = w.t.clock.now();
    await w.t.db.query(
      `INSERT INTO idempotency_keys (scope, key, method, path, request_hash, status, locked_at, created_at, expires_at)
       VALUES ($1, $2, 'POST', '/v1/payments', $3, 'in_progress', $4, $4, $5)`,
      [
        a.accountId,
        key,
        requestFingerprint('POST', '/v1/payments', body),
        now,
        new Date(now.getTime() + 3_600_000),
      ],
    );
    const held = await pay(a, body, key);
    expect([held.status, held.body.error?.code]).toEqual([409, 'idempotency_request_in_progress']);
    w.t.clock.advance(LOCK_TIMEOUT_MS + 1_000);
    const taken = await pay(a, body, key);
    expect(taken.status).toBe(201);
    expect(await paymentsOf(a)).toHaveLength(1);
    expect(await intentsOf(a)).toHaveLength(1);
  }, 60_000);

  it('a request refused before executing (400, 404) keeps no key: the corrected request runs with the same key', async () => {
    const { a, visa } = await freshAccount();
    const key = randomUUID();
    const invalid = await pay(a, { amount: -5, currency: 'usd', paymentMethodId: visa }, key);
    expect(invalid.status).toBe(400);
    const unknownMethod = await pay(a, { amount: 500, currency: 'usd', paymentMethodId: 'pm_missing' }, key);
    expect(unknownMethod.status).toBe(404);
    const fixed = await pay(a, { amount: 500, currency: 'usd', paymentMethodId: visa }, key);
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
    expect(await paymentsOf(a)).toHaveLength(1);
  }, 60_000);

  it('a decline executed: its 402 is kept and replayed, with no second charge', async () => {
    const { a } = await freshAccount();
    const declining = await savedDeclineCard(w, a, '4000000000000002');
    const key = randomUUID();
    const body = { amount: 900, currency: 'usd', paymentMethodId: declining };
    const first = await pay(a, body, key);
    expect([first.status, first.body.error?.code]).toEqual([402, 'card_declined']);
    const retry = await pay(a, body, key);
    expect(retry.status).toBe(402);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await paymentsOf(a)).toHaveLength(1);
    expect(await intentsOf(a)).toHaveLength(1);
  }, 60_000);

  it('a refund whose handler fails after Stripe refunded: answered from the refund, never refunded twice', async () => {
    const { a, visa } = await freshAccount();
    const paid = await paySucceeded(w, a, visa, 5000);
    const finance = await tokenFor({ sub: `finance-${randomUUID()}`, role: 'finance' });
    const key = randomUUID();
    const body = { amount: 1000, reason: 'requested_by_customer', note: `fault-refund-${key}` };
    const refund = () =>
      http<{ id: string; status: string; stripeRefundId: string | null } & ErrorBody>(
        w.t.url,
        'POST',
        `/v1/payments/${paid.id}/refunds`,
        { token: finance, body, headers: { 'idempotency-key': key } },
      );
    const first = await withFault(body.note, refund);
    expect(first.status).toBe(500);
    const stripeRefunds = async () => (await w.stripe.refunds.list({ payment_intent: paid.intentId })).data;
    expect(await stripeRefunds()).toHaveLength(1);
    // The refunds janitor resubmits a refund left without its Stripe id this long, by the same Stripe key.
    w.t.clock.advance(3 * 60_000);
    const refundsJanitor = w.t.app.get(RefundsJanitor, { strict: false });
    const interim: string[] = [];
    const settled = await until(async () => {
      const retry = await refund();
      if (retry.status === 201) return retry;
      interim.push(`${retry.status} ${retry.body.error?.code}`);
      await refundsJanitor.run();
      return null;
    }, 'the retry answered from the refund');
    expect(interim.every((x) => x === '409 idempotency_key_in_use')).toBe(true);
    expect(settled.headers.get('idempotent-replayed')).toBe('true');
    expect(settled.body.stripeRefundId).toBe((await stripeRefunds())[0]?.id);
    const rows = await w.t.db.query<{ id: string }[]>(`SELECT id FROM refunds WHERE payment_id = $1`, [
      paid.id,
    ]);
    expect(rows).toEqual([{ id: settled.body.id }]);
    expect(await stripeRefunds()).toHaveLength(1);
  }, 60_000);
});
