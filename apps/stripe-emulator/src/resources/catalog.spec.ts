import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { expectStripeListShape, expectStripeShape } from '../../test-support/stripe-shapes.js';
import { type TestEmulator, startTestEmulator } from '../core/test-kit.js';

describe('products and prices', () => {
  let kit: TestEmulator;
  beforeAll(async () => {
    kit = await startTestEmulator();
  });
  afterAll(async () => {
    await kit.close();
  });

  it('creates, updates, lists by active and ids, and deletes products', async () => {
    const { stripe } = kit.client();
    const pro = await stripe.products.create({ name: 'Pro', id: 'prod_pro', metadata: { tier: '2' } });
    expect(pro).toMatchObject({ id: 'prod_pro', active: true, name: 'Pro', metadata: { tier: '2' } });
    expectStripeShape('Product', pro);
    const old = await stripe.products.create({ name: 'Old' });
    await stripe.products.update(old.id, { active: false, description: 'retired' });
    const active = await stripe.products.list({ active: true });
    expect(active.data.map((p) => p.id)).toEqual([pro.id]);
    expectStripeListShape('Product', active);
    const byIds = await stripe.products.list({ ids: [old.id] });
    expect(byIds.data[0]).toMatchObject({ description: 'retired', active: false });
    await expect(stripe.products.create({ name: 'Dup', id: 'prod_pro' })).rejects.toMatchObject({
      statusCode: 400,
    });
    const deleted = await stripe.products.del(old.id);
    expect(deleted).toMatchObject({ id: old.id, deleted: true });
    expectStripeShape('DeletedProduct', deleted);
  });

  it('creates recurring and one-time prices, with default_price_data and product_data', async () => {
    const { stripe } = kit.client();
    const product = await stripe.products.create({
      name: 'Team',
      default_price_data: { currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' } },
    });
    expect(product.default_price).toMatch(/^price_/);
    const quarterly = await stripe.prices.create({
      currency: 'usd',
      unit_amount: 4000,
      product: product.id,
      recurring: { interval: 'month', interval_count: 3 },
      nickname: 'Quarterly',
    });
    expect(quarterly).toMatchObject({
      type: 'recurring',
      unit_amount: 4000,
      recurring: { interval: 'month', interval_count: 3, usage_type: 'licensed' },
    });
    expect(String(quarterly.unit_amount_decimal)).toBe('4000');
    expectStripeShape('Price', quarterly);
    const oneTime = await stripe.prices.create({
      currency: 'EUR',
      unit_amount: 999,
      product_data: { name: 'Setup fee' },
    });
    expect(oneTime).toMatchObject({ type: 'one_time', recurring: null, currency: 'eur' });
    const withProduct = await stripe.prices.retrieve(oneTime.id, { expand: ['product'] });
    expect((withProduct.product as Stripe.Product).name).toBe('Setup fee');
    await expect(
      stripe.prices.create({
        currency: 'usd',
        unit_amount: 1,
        product: product.id,
        recurring: { interval: 'month', interval_count: 13 },
      }),
    ).rejects.toMatchObject({ param: 'recurring[interval_count]' });
    await expect(stripe.products.del(product.id)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('keeps lookup keys unique, transfers them on request and filters by lookup_keys[]', async () => {
    const { stripe } = kit.client();
    const product = await stripe.products.create({ name: 'Plan' });
    const v1 = await stripe.prices.create({
      currency: 'usd',
      unit_amount: 1000,
      product: product.id,
      recurring: { interval: 'month' },
      lookup_key: 'pro_monthly',
    });
    await expect(
      stripe.prices.create({
        currency: 'usd',
        unit_amount: 1200,
        product: product.id,
        lookup_key: 'pro_monthly',
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'lookup_key' });
    const v2 = await stripe.prices.create({
      currency: 'usd',
      unit_amount: 1200,
      product: product.id,
      recurring: { interval: 'month' },
      lookup_key: 'pro_monthly',
      transfer_lookup_key: true,
    });
    const yearly = await stripe.prices.create({
      currency: 'usd',
      unit_amount: 10000,
      product: product.id,
      recurring: { interval: 'year' },
      lookup_key: 'pro_yearly',
    });
    expect((await stripe.prices.retrieve(v1.id)).lookup_key).toBeNull();
    const found = await stripe.prices.list({ lookup_keys: ['pro_monthly', 'pro_yearly'] });
    expect(found.data.map((p) => p.id)).toEqual([yearly.id, v2.id]);
    expectStripeListShape('Price', found);
    await stripe.prices.update(v1.id, { active: false });
    const activeMonthly = await stripe.prices.list({
      active: true,
      product: product.id,
      recurring: { interval: 'month' },
    });
    expect(activeMonthly.data.map((p) => p.id)).toEqual([v2.id]);
    const moved = await stripe.prices.update(v1.id, { lookup_key: 'pro_yearly', transfer_lookup_key: true });
    expect(moved.lookup_key).toBe('pro_yearly');
    expect((await stripe.prices.retrieve(yearly.id)).lookup_key).toBeNull();
    const events = await stripe.events.list({ type: 'price.updated' });
    expect(events.data.length).toBeGreaterThanOrEqual(3);
  });
});
