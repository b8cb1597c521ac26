import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { STRIPE_ENDPOINT_EVENTS } from '../../apps/billing-api/src/modules/webhooks/contracts/stripe-endpoint-events.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import { auditCount, createAccount, deliver, SECRET, statusIs, until } from './webhooks.support.js';

interface MethodBody {
  stripePaymentMethodId: string;
  brand: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
}

const DAY = 86_400;
const UPDATES: readonly string[] = ['payment_method.automatically_updated', 'payment_method.updated'];

describe('payment_method.automatically_updated / updated keep a saved card up to date (R-PAY-2)', () => {
  let w: StripeWorld;

  beforeAll(async () => {
    // The emulator delivers everything else by itself; the two update events the test delivers, in the
    // order it chooses (Stripe does not promise any).
    w = await startStripeWorld({
      secret: SECRET,
      events: STRIPE_ENDPOINT_EVENTS.filter((type) => !UPDATES.includes(type)),
    });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it('takes the new expiry from each event, shows it in GET /v1/payment-methods; an older event changes nothing', async () => {
    const accountId = await createAccount(w.t.url, w.admin);
    const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId });
    // A test clock gives each event its own `created` (an hour's work done in one second otherwise ties).
    let time = Math.floor(Date.now() / 1000);
    const clock = await w.stripe.testHelpers.testClocks.create({ frozen_time: time });
    const later = async (): Promise<void> => {
      time += DAY;
      await w.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: time });
    };
    const customer = await w.stripe.customers.create({
      test_clock: clock.id,
      metadata: { account_id: accountId },
    });
    const pm = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });

    const listed = async (): Promise<MethodBody | undefined> => {
      const r = await http<{ data: MethodBody[] }>(w.t.url, 'GET', '/v1/payment-methods', { token: owner });
      expect(r.status).toBe(200);
      return r.body.data.find((m) => m.stripePaymentMethodId === pm.id);
    };
    const initial = await until(listed, 'the attached card in the list');
    expect(initial).toMatchObject({
      brand: 'visa',
      last4: '4242',
      expMonth: pm.card?.exp_month,
      expYear: pm.card?.exp_year,
    });

    // At the emulator: the networks renew the card, then two updates through the API, a day apart each.
    const year = new Date().getUTCFullYear();
    await later();
    const renewed = await fetch(
      `${w.kit.emulator.url}/_emulator/payment_methods/${pm.id}/automatically_update?exp_month=3&exp_year=${year + 5}`,
      { method: 'POST' },
    );
    expect(renewed.status).toBe(200);
    await later();
    await w.stripe.paymentMethods.update(pm.id, { card: { exp_month: 7, exp_year: year + 6 } });
    await later();
    await w.stripe.paymentMethods.update(pm.id, { card: { exp_month: 10, exp_year: year + 7 } });
    const events = (await w.stripe.events.list({ limit: 100 })).data
      .filter((e) => UPDATES.includes(e.type) && (e.data.object as { id?: string }).id === pm.id)
      .sort((x, y) => x.created - y.created);
    expect(events.map((e) => e.type)).toEqual([
      'payment_method.automatically_updated',
      'payment_method.updated',
      'payment_method.updated',
    ]);
    const [networks, middle, newest] = events as [Stripe.Event, Stripe.Event, Stripe.Event];

    const apply = async (event: Stripe.Event): Promise<string | null> => {
      const answer = await deliver(w.t.url, JSON.stringify(event));
      expect(answer.status).toBe(200);
      return (await until(statusIs(w.t.db, event.id, ['processed']), `${event.type} processed`)).outcome;
    };
    const expiry = async () => {
      const m = await listed();
      return { expMonth: m?.expMonth, expYear: m?.expYear };
    };

    expect(await apply(networks)).toBe('applied');
    expect(await expiry()).toEqual({ expMonth: 3, expYear: year + 5 });
    expect(await apply(newest)).toBe('applied');
    expect(await expiry()).toEqual({ expMonth: 10, expYear: year + 7 });
    // The middle update arrives last: older than what the mirror holds, so it is skipped.
    expect(await apply(middle)).toBe('skipped_stale');
    expect(await expiry()).toEqual({ expMonth: 10, expYear: year + 7 });
    expect(await listed()).toMatchObject({ brand: 'visa', last4: '4242' });

    const [row] = await w.t.db.query<{ last_event_created: string }[]>(
      `SELECT last_event_created FROM payment_methods WHERE stripe_payment_method_id = $1`,
      [pm.id],
    );
    expect(Number(row?.last_event_created)).toBe(newest.created);
    // Each applied change is audited, the skipped one is not.
    expect(await auditCount(w.t.db, 'payment_method.updated', pm.id)).toBe(2);
  }, 60_000);
});
