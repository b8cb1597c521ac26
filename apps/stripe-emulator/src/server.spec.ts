import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { expectStripeListShape, expectStripeShape } from '../test-support/stripe-shapes.js';
import {
  type TestEmulator,
  type WebhookReceiver,
  startTestEmulator,
  startWebhookReceiver,
} from './core/test-kit.js';
import { startEmulator } from './server.js';

async function raw(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null, headers: res.headers };
}

function form(key: string, body: string, extra: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...extra,
    },
    body,
  };
}

describe('emulator core', () => {
  let kit: TestEmulator;
  beforeAll(async () => {
    kit = await startTestEmulator();
  });
  afterAll(async () => {
    await kit.close();
  });

  describe('customers through the SDK', () => {
    it('creates, retrieves, updates, lists and deletes a customer', async () => {
      const { stripe } = kit.client();
      const created = await stripe.customers.create({ email: 'a@example.com', metadata: { plan: 'pro' } });
      expect(created.id).toMatch(/^cus_/);
      expect(created.metadata).toEqual({ plan: 'pro' });
      expectStripeShape('Customer', created);

      const updated = await stripe.customers.update(created.id, { name: 'Ada', metadata: { plan: '' } });
      expect(updated.name).toBe('Ada');
      expect(updated.metadata).toEqual({});

      const list = await stripe.customers.list({ email: 'a@example.com' });
      expect(list.data.map((c) => c.id)).toEqual([created.id]);
      expectStripeListShape('Customer', list);

      const deleted = await stripe.customers.del(created.id);
      expect(deleted).toMatchObject({ id: created.id, deleted: true });
      expectStripeShape('DeletedCustomer', deleted);
      const again = await stripe.customers.retrieve(created.id);
      expect(again.deleted).toBe(true);
    });

    it('answers 404 resource_missing for an unknown customer', async () => {
      const { stripe } = kit.client();
      await expect(stripe.customers.retrieve('cus_nope')).rejects.toMatchObject({
        type: 'StripeInvalidRequestError',
        statusCode: 404,
        code: 'resource_missing',
        param: 'id',
      });
    });

    it('keeps accounts apart by secret key', async () => {
      const a = kit.client().stripe;
      const b = kit.client().stripe;
      const customer = await a.customers.create({});
      await expect(b.customers.retrieve(customer.id)).rejects.toMatchObject({ statusCode: 404 });
    });

    it('applies balance transactions to the customer balance', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({ balance: -500 });
      const txn = await stripe.customers.createBalanceTransaction(customer.id, {
        amount: -250,
        currency: 'usd',
      });
      expectStripeShape('CustomerBalanceTransaction', txn);
      expect(txn.ending_balance).toBe(-750);
      expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
        balance: -750,
      });
    });
  });

  describe('requests and errors', () => {
    it('gives every response a req_ request id, also errors', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({});
      expect(customer.lastResponse.requestId).toMatch(/^req_/);
      const err = await stripe.customers.retrieve('cus_missing').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect((err as Stripe.errors.StripeError).requestId).toMatch(/^req_/);
    });

    it('rejects a missing or live key with 401', async () => {
      const missing = await raw(`${kit.emulator.url}/v1/customers`);
      expect(missing.status).toBe(401);
      const live = new Stripe('sk_live_abcdefghijkl', {
        ...kit.emulator.stripeConfig(),
        maxNetworkRetries: 0,
      });
      await expect(live.customers.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    });

    it('answers unknown /v1 routes with 404 invalid_request_error', async () => {
      const res = await raw(`${kit.emulator.url}/v1/nothing_here`, {
        headers: { authorization: 'Bearer sk_test_x1' },
      });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { type: 'invalid_request_error' } });
    });

    it('validates parameters with param names', async () => {
      const { stripe } = kit.client();
      await expect(stripe.customers.list({ limit: 500 })).rejects.toMatchObject({
        statusCode: 400,
        param: 'limit',
      });
      await expect(stripe.customers.create({ test_clock: 'clock_missing' })).rejects.toMatchObject({
        code: 'resource_missing',
        param: 'test_clock',
      });
    });

    it('decodes nested form bodies, a[]= arrays and empty values as the Stripe CLI sends them', async () => {
      const key = 'sk_test_formdecode';
      const res = await raw(
        `${kit.emulator.url}/v1/webhook_endpoints`,
        form(
          key,
          'url=https%3A%2F%2Fexample.com%2Fhook&enabled_events[]=customer.created&enabled_events[]=invoice.paid&metadata[a]=1&metadata[b]=2',
        ),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        enabled_events: ['customer.created', 'invoice.paid'],
        metadata: { a: '1', b: '2' },
      });
      const id = (res.body as { id: string }).id;
      const updated = await raw(
        `${kit.emulator.url}/v1/webhook_endpoints/${id}`,
        form(key, 'metadata[a]=&description='),
      );
      expect(updated.body).toMatchObject({ metadata: { b: '2' }, description: null });
    });
  });

  describe('idempotency', () => {
    it('replays the first result for the same key and parameters', async () => {
      const { stripe } = kit.client();
      const first = await stripe.customers.create({ email: 'i@example.com' }, { idempotencyKey: 'key-1' });
      const second = await stripe.customers.create({ email: 'i@example.com' }, { idempotencyKey: 'key-1' });
      expect(second.id).toBe(first.id);
      expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
      const all = await stripe.customers.list();
      expect(all.data).toHaveLength(1);
    });

    it('replays errors too', async () => {
      const { key } = kit.client();
      const body = 'invoice_settings[default_payment_method]=pm_missing';
      const a = await raw(
        `${kit.emulator.url}/v1/customers`,
        form(key, body, { 'idempotency-key': 'err-key' }),
      );
      const b = await raw(
        `${kit.emulator.url}/v1/customers`,
        form(key, body, { 'idempotency-key': 'err-key' }),
      );
      expect(a.status).toBe(404);
      expect(b.status).toBe(404);
      expect(b.body).toEqual(a.body);
      expect(b.headers.get('idempotent-replayed')).toBe('true');
    });

    it('refuses the same key with other parameters (StripeIdempotencyError)', async () => {
      const { stripe } = kit.client();
      await stripe.customers.create({ email: 'one@example.com' }, { idempotencyKey: 'key-2' });
      const err = await stripe.customers
        .create({ email: 'two@example.com' }, { idempotencyKey: 'key-2' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
      expect(err).toMatchObject({ statusCode: 400, type: 'StripeIdempotencyError' });
    });

    it('answers 409 while the first request with a key is still in flight', async () => {
      const { key } = kit.client();
      kit.emulator.chaos.update({ latencyMs: 150 });
      try {
        const init = form(key, 'email=slow%40example.com', { 'idempotency-key': 'in-flight' });
        // Whichever request reserves the key first holds it for 150 ms of processing; the other gets 409.
        const results = await Promise.all([
          raw(`${kit.emulator.url}/v1/customers`, init),
          raw(`${kit.emulator.url}/v1/customers`, init),
        ]);
        const statuses = results.map((r) => r.status).sort();
        expect(statuses).toEqual([200, 409]);
      } finally {
        kit.emulator.chaos.update({ latencyMs: 0 });
      }
    });
  });

  describe('lists and expand', () => {
    it('paginates newest first with starting_after and ending_before, and auto-pagination sees everything', async () => {
      const { stripe } = kit.client();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await stripe.products.create({ name: `p${i}` })).id);
      const newestFirst = [...ids].reverse();
      const page1 = await stripe.products.list({ limit: 3 });
      expect(page1.data.map((p) => p.id)).toEqual(newestFirst.slice(0, 3));
      expect(page1.has_more).toBe(true);
      expect(page1.url).toBe('/v1/products');
      const page2 = await stripe.products.list({ limit: 3, starting_after: page1.data[2]?.id });
      expect(page2.data.map((p) => p.id)).toEqual(newestFirst.slice(3, 6));
      const back = await stripe.products.list({ limit: 2, ending_before: page2.data[0]?.id });
      expect(back.data.map((p) => p.id)).toEqual(newestFirst.slice(1, 3));
      const all: string[] = [];
      for await (const p of stripe.products.list({ limit: 2 })) all.push(p.id);
      expect(all).toEqual(newestFirst);
    });

    it('expands ids into objects, with data. on lists and nested paths', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({ email: 'e@example.com' });
      const attached = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
      await stripe.customers.update(customer.id, {
        invoice_settings: { default_payment_method: attached.id },
      });
      const withPm = await stripe.customers.retrieve(customer.id, {
        expand: ['invoice_settings.default_payment_method'],
      });
      const dpm = (withPm as Stripe.Customer).invoice_settings.default_payment_method as Stripe.PaymentMethod;
      expect(dpm.object).toBe('payment_method');
      expect(dpm.card?.last4).toBe('4242');

      const pi = await stripe.paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        customer: customer.id,
        payment_method: dpm.id,
        confirm: true,
        expand: ['latest_charge', 'customer'],
      });
      expect((pi.latest_charge as Stripe.Charge).object).toBe('charge');
      expect((pi.customer as Stripe.Customer).id).toBe(customer.id);

      const list = await stripe.paymentIntents.list({
        customer: customer.id,
        expand: ['data.latest_charge.customer'],
      });
      const charge = list.data[0]?.latest_charge as Stripe.Charge;
      expect((charge.customer as Stripe.Customer).email).toBe(customer.email);
      // Stored objects keep their ids.
      const plain = await stripe.paymentIntents.retrieve(pi.id);
      expect(typeof plain.latest_charge).toBe('string');
    });

    it('refuses to expand a field that is not expandable', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({ email: 'x@example.com' });
      await expect(stripe.customers.retrieve(customer.id, { expand: ['email'] })).rejects.toMatchObject({
        statusCode: 400,
        param: 'expand',
      });
    });
  });

  describe('chaos switches', () => {
    it('injects 429 as StripeRateLimitError and failures as 500 api_error, through the admin endpoint', async () => {
      const own = await startTestEmulator();
      try {
        const { stripe } = own.client();
        const set = await raw(`${own.emulator.url}/_emulator/chaos`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ rateLimitRate: 1 }),
        });
        expect(set.body).toMatchObject({ rateLimitRate: 1 });
        const limited = await stripe.customers.list().catch((e: unknown) => e);
        expect(limited).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
        expect(limited).toMatchObject({ statusCode: 429, code: 'rate_limit' });

        await raw(`${own.emulator.url}/_emulator/chaos`, form('', 'rateLimitRate=0&failureRate=1'));
        const failed = await stripe.customers.create({}).catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(Stripe.errors.StripeAPIError);
        expect(failed).toMatchObject({ statusCode: 500, rawType: 'api_error' });

        await raw(`${own.emulator.url}/_emulator/chaos`, form('', 'reset=true'));
        await expect(stripe.customers.create({})).resolves.toMatchObject({ object: 'customer' });

        // failNext: exactly the next n calls fail, then calls pass.
        const armed = await raw(`${own.emulator.url}/_emulator/chaos`, form('', 'failNext=2'));
        expect(armed.body).toMatchObject({ failNext: 2, failureRate: 0 });
        for (let i = 0; i < 2; i++) {
          await expect(stripe.customers.list()).rejects.toMatchObject({
            statusCode: 500,
            rawType: 'api_error',
          });
        }
        await expect(stripe.customers.list()).resolves.toMatchObject({ object: 'list' });
        expect((await raw(`${own.emulator.url}/_emulator/chaos`)).body).toMatchObject({ failNext: 0 });
        expect((await raw(`${own.emulator.url}/_emulator/chaos`, form('', 'failNext=-1'))).status).toBe(400);
        const bad = await raw(`${own.emulator.url}/_emulator/chaos`, form('', 'failureRate=2'));
        expect(bad.status).toBe(400);
      } finally {
        await own.close();
      }
    });

    it('lets the SDK retry an injected failure without duplicating the object', async () => {
      let calls = 0;
      const own = await startTestEmulator({ random: () => (calls++ === 0 ? 0 : 0.99) });
      try {
        own.emulator.chaos.update({ failureRate: 0.5 });
        const { stripe } = own.client({ maxNetworkRetries: 2 });
        const customer = await stripe.customers.create({ email: 'r@example.com' });
        expect(customer.id).toMatch(/^cus_/);
        const list = await stripe.customers.list();
        expect(list.data).toHaveLength(1);
      } finally {
        await own.close();
      }
    });
  });

  describe('webhooks', () => {
    let receiver: WebhookReceiver;
    beforeAll(async () => {
      receiver = await startWebhookReceiver();
    });
    afterAll(async () => {
      await receiver.close();
    });

    it('delivers signed events that constructEvent accepts, and rejects a changed body or an old timestamp', async () => {
      const { stripe } = kit.client();
      const endpoint = await stripe.webhookEndpoints.create({
        url: receiver.url,
        enabled_events: ['customer.created'],
      });
      expect(endpoint.secret).toMatch(/^whsec_/);
      expectStripeShape('WebhookEndpoint', endpoint);
      const secret = endpoint.secret ?? '';
      const customer = await stripe.customers.create({ email: 'hook@example.com' });
      const hook = await receiver.next((h) => h.event.data.object.id === customer.id);

      const event = stripe.webhooks.constructEvent(hook.body, hook.signature, secret);
      expect(event.type).toBe('customer.created');
      expect(event.id).toMatch(/^evt_/);
      expect(event.api_version).toBe('2026-10-28.endive');
      expect(event.request?.id).toMatch(/^req_/);
      expectStripeShape('Event', JSON.parse(hook.body));

      const changed = hook.body.replace('hook@example.com', 'evil@example.com');
      expect(() => stripe.webhooks.constructEvent(changed, hook.signature, secret)).toThrow(
        Stripe.errors.StripeSignatureVerificationError,
      );
      const t = Number(/t=(\d+)/.exec(hook.signature)?.[1]);
      expect(() =>
        stripe.webhooks.constructEvent(hook.body, hook.signature, secret, 300, undefined, (t + 301) * 1000),
      ).toThrow(/Timestamp outside the tolerance zone/);
      expect(() => stripe.webhooks.constructEvent(hook.body, hook.signature, 'whsec_wrong')).toThrow(
        Stripe.errors.StripeSignatureVerificationError,
      );
    });

    it('only delivers enabled event types to enabled endpoints', async () => {
      const { stripe } = kit.client();
      const onlyProducts = await startWebhookReceiver();
      try {
        await stripe.webhookEndpoints.create({ url: onlyProducts.url, enabled_events: ['product.created'] });
        const disabled = await stripe.webhookEndpoints.create({
          url: onlyProducts.url,
          enabled_events: ['*'],
        });
        await stripe.webhookEndpoints.update(disabled.id, { disabled: true });
        await stripe.customers.create({});
        const product = await stripe.products.create({ name: 'hooked' });
        const hook = await onlyProducts.next((h) => h.event.type === 'product.created');
        expect(hook.event.data.object.id).toBe(product.id);
        await kit.emulator.delivery.idle();
        expect(onlyProducts.received.map((h) => h.event.type)).toEqual(['product.created']);
      } finally {
        await onlyProducts.close();
      }
    });

    it('retries a failed delivery with backoff and records the attempts', async () => {
      const own = await startTestEmulator({ delivery: { retryBaseMs: 10 } });
      const flaky = await startWebhookReceiver();
      flaky.status = (_hook, index) => (index < 2 ? 500 : 200);
      try {
        const { stripe, key } = own.client();
        await stripe.webhookEndpoints.create({ url: flaky.url, enabled_events: ['*'] });
        const customer = await stripe.customers.create({});
        await own.emulator.delivery.idle();
        expect(flaky.received).toHaveLength(3);
        expect(new Set(flaky.received.map((h) => h.event.data.object.id))).toEqual(new Set([customer.id]));
        const deliveries = await raw(`${own.emulator.url}/_emulator/deliveries?key=${key}`);
        const records = (
          deliveries.body as { data: { status: string; attempts: number; history: unknown[] }[] }
        ).data;
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({ status: 'succeeded', attempts: 3 });

        const event = (await stripe.events.list({ type: 'customer.created' })).data[0];
        const re = await raw(`${own.emulator.url}/_emulator/events/${event?.id ?? ''}/redeliver`, {
          method: 'POST',
        });
        expect(re.status).toBe(200);
        await flaky.next((h) => h.event.id === event?.id && flaky.received.length === 4);
        expect(flaky.received).toHaveLength(4);
      } finally {
        await own.close();
        await flaky.close();
      }
    });

    it('duplicates deliveries when the duplicate switch is on, with the same event id', async () => {
      const own = await startTestEmulator({ chaos: { webhookDuplicateRate: 1 } });
      const rx = await startWebhookReceiver();
      try {
        const { stripe } = own.client();
        await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['customer.created'] });
        await stripe.customers.create({});
        await own.emulator.delivery.idle();
        expect(rx.received).toHaveLength(2);
        expect(rx.received[0]?.event.id).toBe(rx.received[1]?.event.id);
      } finally {
        await own.close();
        await rx.close();
      }
    });

    it("sends every account's events to the endpoint given at start (the demo endpoint)", async () => {
      const rx = await startWebhookReceiver();
      const own = await startTestEmulator({ webhookUrl: rx.url, webhookSecret: 'whsec_demo' });
      try {
        const a = own.client().stripe;
        const b = own.client().stripe;
        const ca = await a.customers.create({});
        const cb = await b.customers.create({});
        const ha = await rx.next((h) => h.event.data.object.id === ca.id);
        const hb = await rx.next((h) => h.event.data.object.id === cb.id);
        expect(a.webhooks.constructEvent(ha.body, ha.signature, 'whsec_demo').type).toBe('customer.created');
        expect(b.webhooks.constructEvent(hb.body, hb.signature, 'whsec_demo').type).toBe('customer.created');
      } finally {
        await own.close();
        await rx.close();
      }
    });
  });

  describe('events', () => {
    it('lists events with type and types[] filters and retrieves one', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({ name: 'x' });
      await stripe.customers.update(customer.id, { name: 'y' });
      await stripe.products.create({ name: 'p' });
      const both = await stripe.events.list({ types: ['customer.created', 'customer.updated'] });
      expect(both.data.map((e) => e.type)).toEqual(['customer.updated', 'customer.created']);
      expect(both.data[0]?.data.previous_attributes).toEqual({ name: 'x' });
      const wildcard = await stripe.events.list({ type: 'customer.*' });
      expect(wildcard.data).toHaveLength(2);
      const one = await stripe.events.retrieve(both.data[1]?.id ?? '');
      expect(one.data.object).toMatchObject({ id: customer.id, name: 'x' });
      expectStripeShape('Event', one);
    });
  });

  describe('time', () => {
    it('stamps objects and events of a customer on a test clock with the clock time', async () => {
      const { stripe } = kit.client();
      const frozen = Math.floor(Date.UTC(2030, 0, 31, 12) / 1000);
      const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
      const onClock = await stripe.customers.create({ test_clock: clock.id, email: 'clock@example.com' });
      expect(onClock.created).toBe(frozen);
      expect(onClock.test_clock).toBe(clock.id);
      const pi = await stripe.paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        customer: onClock.id,
        payment_method: 'pm_card_visa',
        confirm: true,
      });
      expect(pi.created).toBe(frozen);
      const events = await stripe.events.list({ types: ['customer.created', 'payment_intent.succeeded'] });
      expect(events.data.map((e) => e.created)).toEqual([frozen, frozen]);
      const realTime = await stripe.customers.create({});
      expect(Math.abs(realTime.created - Date.now() / 1000)).toBeLessThan(60);
      const clocked = await stripe.customers.list({ test_clock: clock.id });
      expect(clocked.data.map((c) => c.id)).toEqual([onClock.id]);
    });
  });

  describe('admin and lifecycle', () => {
    it('reports health and resets one account or everything', async () => {
      const own = await startTestEmulator();
      try {
        const health = await raw(`${own.emulator.url}/_emulator/health`);
        expect(health.body).toMatchObject({ status: 'ok' });
        const { stripe, key } = own.client();
        const other = own.client().stripe;
        await stripe.customers.create({});
        const kept = await other.customers.create({});
        await raw(`${own.emulator.url}/_emulator/reset`, form('', `key=${key}`));
        expect((await stripe.customers.list()).data).toHaveLength(0);
        expect((await other.customers.list()).data.map((c) => c.id)).toEqual([kept.id]);
        await raw(`${own.emulator.url}/_emulator/reset`, { method: 'POST' });
        expect((await other.customers.list()).data).toHaveLength(0);
      } finally {
        await own.close();
      }
    });

    it('persists state to a file and restores it on the next start', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
      const stateFile = join(dir, 'state.json');
      try {
        const first = await startEmulator({ port: 0, stateFile });
        const stripe1 = new Stripe('sk_test_persist', { ...first.stripeConfig(), maxNetworkRetries: 0 });
        const customer = await stripe1.customers.create({
          email: 'p@example.com',
          payment_method: 'pm_card_visa',
        });
        await first.close();
        const second = await startEmulator({ port: 0, stateFile });
        try {
          const stripe2 = new Stripe('sk_test_persist', { ...second.stripeConfig(), maxNetworkRetries: 0 });
          const restored = (await stripe2.customers.retrieve(customer.id)) as Stripe.Customer;
          expect(restored.email).toBe('p@example.com');
          const methods = await stripe2.paymentMethods.list({ customer: customer.id });
          expect(methods.data).toHaveLength(1);
          const pm = methods.data[0]?.id ?? '';
          const pi = await stripe2.paymentIntents.create({
            amount: 500,
            currency: 'usd',
            customer: customer.id,
            payment_method: pm,
            confirm: true,
          });
          expect(pi.status).toBe('succeeded');
        } finally {
          await second.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('starts in-process in well under 2 s and closes without leaving handles', async () => {
      const started = Date.now();
      const own = await startEmulator({ port: 0 });
      const elapsed = Date.now() - started;
      await own.close();
      expect(elapsed).toBeLessThan(2000);
      await expect(own.close()).resolves.toBeUndefined();
    });
  });
});
