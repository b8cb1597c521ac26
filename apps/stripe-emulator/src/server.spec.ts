import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestEmulator, startTestEmulator } from './core/test-kit.js';

describe('emulator core (smoke)', () => {
  let kit: TestEmulator;
  beforeAll(async () => {
    kit = await startTestEmulator();
  });
  afterAll(async () => {
    await kit.close();
  });

  it('creates, retrieves, updates, lists and deletes a customer through the SDK', async () => {
    const { stripe } = kit.client();
    const created = await stripe.customers.create({ email: 'a@example.com', metadata: { plan: 'pro' } });
    expect(created.id).toMatch(/^cus_/);
    expect(created.lastResponse.requestId).toMatch(/^req_/);
    expect(created.metadata).toEqual({ plan: 'pro' });

    const updated = await stripe.customers.update(created.id, { name: 'Ada', metadata: { plan: '' } });
    expect(updated.name).toBe('Ada');
    expect(updated.metadata).toEqual({});

    const list = await stripe.customers.list({ email: 'a@example.com' });
    expect(list.data.map((c) => c.id)).toEqual([created.id]);

    const deleted = await stripe.customers.del(created.id);
    expect(deleted.deleted).toBe(true);
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

  it('records customer events', async () => {
    const { stripe } = kit.client();
    const customer = await stripe.customers.create({ name: 'x' });
    await stripe.customers.update(customer.id, { name: 'y' });
    const events = await stripe.events.list({ types: ['customer.created', 'customer.updated'] });
    expect(events.data.map((e) => e.type)).toEqual(['customer.updated', 'customer.created']);
    expect(events.data[0]?.data.previous_attributes).toEqual({ name: 'x' });
    expect(events.data[0]?.request?.id).toMatch(/^req_/);
  });
});
