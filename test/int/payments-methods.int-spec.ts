import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  accountWithCustomer,
  attachMethod,
  http,
  startPaymentsWorld,
  until,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';

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

describe('payment methods API (R-PAY-2) against the emulator', () => {
  let w: PaymentsWorld;
  let a: TestAccount;
  let other: TestAccount;

  beforeAll(async () => {
    w = await startPaymentsWorld();
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
});
