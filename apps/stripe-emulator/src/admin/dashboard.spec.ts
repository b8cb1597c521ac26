import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import {
  type TestEmulator,
  type WebhookReceiver,
  startTestEmulator,
  startWebhookReceiver,
} from '../core/test-kit.js';
import { customerOnClock, makeWorld } from '../billing/testing.js';

async function admin(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('chaos: lost responses and dropped webhooks; dashboard edits', () => {
  let kit: TestEmulator;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    kit = await startTestEmulator();
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await kit.close();
    await receiver.close();
  });

  it('loseNext: the call commits, the client sees a connection error, a retry with the key replays it', async () => {
    const { stripe } = kit.client();
    // Two: the SDK retries a reset connection once by itself, and that replay's answer is lost too.
    const armed = await admin(`${kit.emulator.url}/_emulator/chaos`, { loseNext: 2 });
    expect(armed.body).toMatchObject({ loseNext: 2 });
    const params = { email: 'lost@example.com' };
    const error = await stripe.customers
      .create(params, { idempotencyKey: 'k-lost' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    const listed = await stripe.customers.list({ email: 'lost@example.com' });
    expect(listed.data).toHaveLength(1);
    const again = await stripe.customers.create(params, { idempotencyKey: 'k-lost' });
    expect(again.id).toBe(listed.data[0]?.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect((await admin(`${kit.emulator.url}/_emulator/chaos`, {})).body).toMatchObject({ loseNext: 0 });
  });

  it('loseNext 1 is absorbed by the SDK retrying the reset connection with the same key', async () => {
    const { stripe } = kit.client();
    await admin(`${kit.emulator.url}/_emulator/chaos`, { loseNext: 1 });
    const created = await stripe.customers.create({ email: 'once@example.com' });
    expect(created.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect((await stripe.customers.list()).data).toHaveLength(1);
  });

  it('lostResponseRate is a probability', async () => {
    const refused = await admin(`${kit.emulator.url}/_emulator/chaos`, { lostResponseRate: 2 });
    expect(refused.status).toBe(400);
    const { stripe } = kit.client();
    await admin(`${kit.emulator.url}/_emulator/chaos`, { lostResponseRate: 1 });
    try {
      await expect(stripe.products.create({ name: 'x' })).rejects.toBeInstanceOf(
        Stripe.errors.StripeConnectionError,
      );
    } finally {
      await admin(`${kit.emulator.url}/_emulator/chaos`, { reset: true });
    }
    expect((await stripe.products.list()).data.map((p) => p.name)).toEqual(['x']);
  });

  it('dropNextWebhooks: the event is stored but never delivered', async () => {
    const { stripe } = kit.client();
    await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['customer.created'] });
    await admin(`${kit.emulator.url}/_emulator/chaos`, { dropNextWebhooks: 1 });
    const dropped = await stripe.customers.create({ email: 'dropped@example.com' });
    const delivered = await stripe.customers.create({ email: 'delivered@example.com' });
    await receiver.next((h) => h.event.data.object.id === delivered.id);
    await kit.emulator.delivery.idle();
    expect(receiver.received.some((h) => h.event.data.object.id === dropped.id)).toBe(false);
    const events = await stripe.events.list({ type: 'customer.created' });
    expect(events.data.map((e) => (e.data.object as Stripe.Customer).id)).toContain(dropped.id);
  });

  it('changes a subscription as the dashboard would, without an event unless asked', async () => {
    const w = await makeWorld(kit);
    const customer = await customerOnClock(w, 'pm_card_visa');
    const sub = await w.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: w.basic.id }],
    });
    const eventsBefore = (await w.stripe.events.list({ limit: 100 })).data.length;
    const periodEnd = (sub.items.data[0]?.current_period_end ?? 0) + 86_400;
    const edited = await admin(`${kit.emulator.url}/_emulator/dashboard/subscriptions/${sub.id}`, {
      status: 'canceled',
      cancel_at_period_end: true,
      items: [{ price: w.pro.id, quantity: 3, current_period_end: periodEnd }],
    });
    expect(edited.status).toBe(200);
    const read = await w.stripe.subscriptions.retrieve(sub.id);
    expect(read.status).toBe('canceled');
    expect(read.cancel_at_period_end).toBe(true);
    expect(read.items.data[0]).toMatchObject({
      price: { id: w.pro.id },
      quantity: 3,
      current_period_end: periodEnd,
    });
    expect((await w.stripe.events.list({ limit: 100 })).data).toHaveLength(eventsBefore);

    await admin(`${kit.emulator.url}/_emulator/dashboard/subscriptions/${sub.id}`, {
      cancel_at_period_end: false,
      webhooks: 'send',
    });
    const [updated] = (await w.stripe.events.list({ type: 'customer.subscription.updated', limit: 1 })).data;
    expect(updated?.data.previous_attributes).toEqual({ cancel_at_period_end: true });
  });

  it('refuses unknown types, fields and ids', async () => {
    const { stripe } = kit.client();
    const customer = await stripe.customers.create();
    const url = kit.emulator.url;
    expect((await admin(`${url}/_emulator/dashboard/customers/${customer.id}`, { email: 'x' })).status).toBe(
      400,
    );
    expect(
      (await admin(`${url}/_emulator/dashboard/subscriptions/sub_nope`, { status: 'active' })).status,
    ).toBe(404);
    const pi = await stripe.paymentIntents.create({ amount: 100, currency: 'usd' });
    expect(
      (await admin(`${url}/_emulator/dashboard/payment_intents/${pi.id}`, { customer: 'x' })).status,
    ).toBe(400);
    const ok = await admin(`${url}/_emulator/dashboard/payment_intents/${pi.id}`, { amount: 250 });
    expect(ok.body).toMatchObject({ id: pi.id, amount: 250 });
  });
});
