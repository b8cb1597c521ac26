import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { tokenFor } from '../support/test-app.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  startPaymentsWorld,
  until,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';
import { createAccount } from './webhooks.support.js';

interface MethodBody {
  id: string;
  stripePaymentMethodId: string;
  brand: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
  funding: string | null;
  isDefault: boolean;
  status: string;
}
interface ErrorBody {
  error: { code: string; message: string; request_id: string; details?: unknown };
}

describe('payment methods API (R-PAY-2) against the emulator', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let other: TestAccount;

  beforeAll(async () => {
    // One SDK retry and a short timeout keep the failure-injection tests below quick.
    w = await startPaymentsWorld({ STRIPE_MAX_NETWORK_RETRIES: '1', STRIPE_TIMEOUT_MS: '1500' });
    a = await accountWithCustomer(w);
    other = await accountWithCustomer(w);
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it('creates the customer once, with the account id in its metadata, and returns a client secret', async () => {
    const again = await http<{ id: string; clientSecret: string }>(
      w.t.url,
      'POST',
      '/v1/payment-methods/setup-intents',
      { token: a.owner },
    );
    expect(again.status).toBe(201);
    expect(again.body.id).toMatch(/^seti_/);
    expect(again.body.clientSecret).toContain(again.body.id);
    const customers = await w.stripe.customers.list({ limit: 100 });
    const ours = customers.data.filter((c) => c.metadata?.account_id === a.accountId);
    expect(ours.map((c) => c.id)).toEqual([a.customerId]);
    const member = await http(w.t.url, 'POST', '/v1/payment-methods/setup-intents', { token: a.member });
    expect(member.status).toBe(403);
  });

  it('a new default card becomes the default of the subscriptions that name their own card (as Checkout leaves them)', async () => {
    const b = await accountWithCustomer(w);
    const first = await attachMethod(w, b, 'pm_card_visa');
    const second = await attachMethod(w, b, 'pm_card_mastercard');
    const price = await w.stripe.prices.create({
      currency: 'usd',
      unit_amount: 1500,
      recurring: { interval: 'month' },
      product_data: { name: 'Checkout-like subscription' },
    });
    // What Checkout makes: a subscription with a default payment method of its own.
    const sub = await w.stripe.subscriptions.create({
      customer: b.customerId,
      items: [{ price: price.id }],
      default_payment_method: first,
    });
    const rows = await http<{ data: MethodBody[] }>(w.t.url, 'GET', '/v1/payment-methods', {
      token: b.owner,
    });
    const secondRow = rows.body.data.find((m) => m.stripePaymentMethodId === second);
    const made = await http<MethodBody>(w.t.url, 'POST', `/v1/payment-methods/${secondRow?.id}/default`, {
      token: b.owner,
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(made.status).toBe(200);
    // Renewals and dunning retries charge the subscription's own default first: it is the new card now.
    expect((await w.stripe.subscriptions.retrieve(sub.id)).default_payment_method).toBe(second);
    const [audit] = await w.t.db.query<Array<{ after: { subscriptionsMovedToIt: string[] } }>>(
      `SELECT after FROM audit_log WHERE account_id = $1 AND action = 'payment_method.default_set'`,
      [b.accountId],
    );
    expect(audit?.after.subscriptionsMovedToIt).toEqual([sub.id]);
  });

  it('lists, sets the default and detaches; another account’s method is 404', async () => {
    const visa = await attachMethod(w, a, 'pm_card_visa');
    const debit = await attachMethod(w, a, 'pm_card_visa_debit');
    const list = await http<{ data: MethodBody[] }>(w.t.url, 'GET', '/v1/payment-methods', {
      token: a.owner,
    });
    expect(list.status).toBe(200);
    expect(list.body.data.map((m) => m.stripePaymentMethodId).sort()).toEqual([visa, debit].sort());
    const debitRow = list.body.data.find((m) => m.stripePaymentMethodId === debit);
    expect(debitRow).toMatchObject({ brand: 'visa', last4: '5556', funding: 'debit', isDefault: false });
    expect(debitRow?.expYear).toBeGreaterThan(2000);

    const made = await http<MethodBody>(w.t.url, 'POST', `/v1/payment-methods/${debitRow?.id}/default`, {
      token: a.owner,
    });
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({ stripePaymentMethodId: debit, isDefault: true });
    const customer = await w.stripe.customers.retrieve(a.customerId);
    if (customer.deleted) throw new Error('customer deleted');
    expect(customer.invoice_settings.default_payment_method).toBe(debit);
    // The mirror follows by webhook: the list then shows the flag.
    await until(async () => {
      const l = await http<{ data: MethodBody[] }>(w.t.url, 'GET', '/v1/payment-methods', { token: a.owner });
      return l.body.data.find((m) => m.stripePaymentMethodId === debit)?.isDefault === true;
    }, 'default flag mirrored');

    // Another account's owner: 404 for default and detach, by our id and by Stripe's.
    for (const id of [debitRow?.id ?? '', debit]) {
      expect(
        (await http(w.t.url, 'POST', `/v1/payment-methods/${id}/default`, { token: other.owner })).status,
      ).toBe(404);
      expect(
        (await http(w.t.url, 'DELETE', `/v1/payment-methods/${id}`, { token: other.owner })).status,
      ).toBe(404);
    }

    const gone = await http<MethodBody>(w.t.url, 'DELETE', `/v1/payment-methods/${visa}`, { token: a.owner });
    expect(gone.status).toBe(200);
    expect(gone.body).toMatchObject({ stripePaymentMethodId: visa, status: 'detached' });
    expect((await w.stripe.paymentMethods.retrieve(visa)).customer).toBeNull();
    await until(async () => {
      const l = await http<{ data: MethodBody[] }>(w.t.url, 'GET', '/v1/payment-methods', { token: a.owner });
      return l.body.data.length === 1 && l.body.data[0]?.stripePaymentMethodId === debit;
    }, 'detach mirrored');
    expect((await http(w.t.url, 'DELETE', `/v1/payment-methods/${visa}`, { token: a.owner })).status).toBe(
      404,
    );
  }, 60_000);

  describe('when Stripe fails (emulator failure injection)', () => {
    const chaos = async (body: Record<string, unknown>): Promise<void> => {
      const res = await fetch(`${w.kit.emulator.url}/_emulator/chaos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`chaos answered ${res.status}`);
    };
    afterEach(async () => {
      await chaos({ reset: true });
    });
    const setupIntentsOf = async (customer: string) =>
      (await w.stripe.setupIntents.list({ customer, limit: 100 })).data.map((si) => si.id);
    const audited = async (action: string, entityId: string) =>
      (
        await w.t.db.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM audit_log WHERE action = $1 AND entity_id = $2`,
          [action, entityId],
        )
      )[0]?.n;
    const storedKey = async (key: string) =>
      (await w.t.db.query<unknown[]>(`SELECT 1 FROM idempotency_keys WHERE key = $1`, [key])).length;
    /** The mapped error, in the one shape, with the friendly message and nothing of Stripe's own text. */
    const expectMapped = (
      res: { status: number; body: unknown },
      status: number,
      code: string,
      message: RegExp,
    ): void => {
      expect([res.status, (res.body as ErrorBody).error.code]).toEqual([status, code]);
      expect((res.body as ErrorBody).error.message).toMatch(message);
      expect(JSON.stringify(res.body)).not.toMatch(/emulator|chaos|rate limits here|req_/i);
    };

    it.each([
      ['500s', { failureRate: 1 }, 'payment_provider_unavailable', /could not be reached/],
      ['429s', { rateLimitRate: 1 }, 'payment_provider_rate_limited', /too many requests/],
    ])(
      'a setup intent under %s -> 503 %s, no intent made, the key not kept',
      async (_name, switches, code, message) => {
        const before = await setupIntentsOf(a.customerId);
        const key = randomUUID();
        await chaos(switches);
        const res = await http<ErrorBody>(w.t.url, 'POST', '/v1/payment-methods/setup-intents', {
          token: a.owner,
          headers: { 'idempotency-key': key },
        });
        await chaos({ reset: true });
        expectMapped(res, 503, code, message);
        expect(await setupIntentsOf(a.customerId)).toEqual(before);
        // A transient failure is not remembered: the same key then runs, and makes one intent.
        expect(await storedKey(key)).toBe(0);
        const retry = await http<{ id: string }>(w.t.url, 'POST', '/v1/payment-methods/setup-intents', {
          token: a.owner,
          headers: { 'idempotency-key': key },
        });
        expect(retry.status).toBe(201);
        expect((await setupIntentsOf(a.customerId)).sort()).toEqual([...before, retry.body.id].sort());
      },
      30_000,
    );

    it('first-time customer creation failing -> 503, no customer linked or made; then exactly one', async () => {
      const accountId = await createAccount(w.t.url, w.admin);
      const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId });
      const linked = async () =>
        (
          await w.t.db.query<{ stripe_customer_id: string | null }[]>(
            `SELECT stripe_customer_id FROM accounts WHERE id = $1`,
            [accountId],
          )
        )[0]?.stripe_customer_id;
      const customersAtStripe = async () =>
        (await w.stripe.customers.list({ limit: 100 })).data.filter(
          (c) => c.metadata?.account_id === accountId,
        );
      await chaos({ failureRate: 1 });
      const res = await http<ErrorBody>(w.t.url, 'POST', '/v1/payment-methods/setup-intents', {
        token: owner,
      });
      await chaos({ reset: true });
      expectMapped(res, 503, 'payment_provider_unavailable', /could not be reached/);
      expect(await linked()).toBeNull();
      expect(await customersAtStripe()).toEqual([]);
      expect(await audited('account.stripe_customer_created', accountId)).toBe(0);

      const ok = await http(w.t.url, 'POST', '/v1/payment-methods/setup-intents', { token: owner });
      expect(ok.status).toBe(201);
      const customers = await customersAtStripe();
      expect(customers).toHaveLength(1);
      expect(await linked()).toBe(customers[0]?.id);
      expect(await audited('account.stripe_customer_created', accountId)).toBe(1);
    }, 30_000);

    it.each([
      ['500s', { failureRate: 1 }, 'payment_provider_unavailable', /could not be reached/],
      ['429s', { rateLimitRate: 1 }, 'payment_provider_rate_limited', /too many requests/],
    ])(
      'set default and detach under %s -> 503 %s, nothing changed at Stripe or here',
      async (_name, switches, code, message) => {
        const pm = await attachMethod(w, a, 'pm_card_mastercard');
        const defaultAtStripe = async () => {
          const c = await w.stripe.customers.retrieve(a.customerId);
          if (c.deleted) throw new Error('customer deleted');
          return c.invoice_settings.default_payment_method;
        };
        const defaultBefore = await defaultAtStripe();
        await chaos(switches);
        const made = await http<ErrorBody>(w.t.url, 'POST', `/v1/payment-methods/${pm}/default`, {
          token: a.owner,
          headers: { 'idempotency-key': randomUUID() },
        });
        const gone = await http<ErrorBody>(w.t.url, 'DELETE', `/v1/payment-methods/${pm}`, {
          token: a.owner,
        });
        await chaos({ reset: true });
        expectMapped(made, 503, code, message);
        expectMapped(gone, 503, code, message);
        expect(await defaultAtStripe()).toBe(defaultBefore);
        expect((await w.stripe.paymentMethods.retrieve(pm)).customer).toBe(a.customerId);
        expect(await audited('payment_method.default_set', pm)).toBe(0);
        expect(await audited('payment_method.detach_requested', pm)).toBe(0);
        const list = await http<{ data: MethodBody[] }>(w.t.url, 'GET', '/v1/payment-methods', {
          token: a.owner,
        });
        expect(list.body.data.find((m) => m.stripePaymentMethodId === pm)).toMatchObject({
          status: 'attached',
          isDefault: false,
        });
        // Once Stripe answers again, a retry goes through (no Stripe key replays the failure).
        const retried = await http<MethodBody>(w.t.url, 'DELETE', `/v1/payment-methods/${pm}`, {
          token: a.owner,
        });
        expect([retried.status, retried.body.status]).toEqual([200, 'detached']);
        expect((await w.stripe.paymentMethods.retrieve(pm)).customer).toBeNull();
      },
      30_000,
    );

    it('a retry with the same Idempotency-Key after a timeout gets the intent Stripe made, not a second', async () => {
      const before = await setupIntentsOf(a.customerId);
      const request = { token: a.owner, headers: { 'idempotency-key': randomUUID() } };
      // Stripe answers after our timeout (1.5 s): it makes the intent, but the API never hears of it.
      await chaos({ latencyMs: 4000 });
      const lost = await http<ErrorBody>(w.t.url, 'POST', '/v1/payment-methods/setup-intents', request);
      // The call still running at Stripe keeps its latency; the calls below run at full speed.
      await chaos({ reset: true });
      expectMapped(lost, 503, 'payment_provider_unavailable', /could not be reached/);
      const made = await until(
        async () => {
          const ids = (await setupIntentsOf(a.customerId)).filter((id) => !before.includes(id));
          return ids.length > 0 ? ids : null;
        },
        'the intent of the timed-out call',
        15_000,
      );
      expect(made).toHaveLength(1);
      const retry = await http<{ id: string }>(w.t.url, 'POST', '/v1/payment-methods/setup-intents', request);
      expect(retry.status).toBe(201);
      expect(retry.body.id).toBe(made[0]);
      expect(await setupIntentsOf(a.customerId)).toHaveLength(before.length + 1);
      // Without the header each request is its own intent.
      const fresh = await http<{ id: string }>(w.t.url, 'POST', '/v1/payment-methods/setup-intents', {
        token: a.owner,
      });
      expect(fresh.status).toBe(201);
      expect(fresh.body.id).not.toBe(made[0]);
    }, 30_000);
  });
});
