import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { expectOpenApi2024Shape } from '../../test-support/stripe-shapes.js';
import { type TestEmulator, startTestEmulator } from '../core/test-kit.js';
import { AVAILABLE_AFTER_DAYS, cardFee } from './balance-transactions.js';

const DAY = 86_400;

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('balance transactions', () => {
  let kit: TestEmulator;
  beforeAll(async () => {
    kit = await startTestEmulator({ settings: { refundSettleMs: 5 } });
  });
  afterAll(() => kit.close());

  async function pay(stripe: Stripe, amount: number, pm = 'pm_card_visa'): Promise<Stripe.PaymentIntent> {
    return stripe.paymentIntents.create({
      amount,
      currency: 'usd',
      payment_method: pm,
      confirm: true,
      description: 'Order 42',
    });
  }

  it("records a charge's amount, fee, net, available_on and category, and expands it from the charge", async () => {
    const { stripe } = kit.client();
    const pi = await pay(stripe, 10_000);
    const charge = await stripe.charges.retrieve(pi.latest_charge as string, {
      expand: ['balance_transaction'],
    });
    const txn = charge.balance_transaction as Stripe.BalanceTransaction;
    expectOpenApi2024Shape('balance_transaction', txn);
    expect(txn).toMatchObject({
      object: 'balance_transaction',
      amount: 10_000,
      fee: 320, // 2.9 % of 100.00 + 0.30
      net: 9_680,
      currency: 'usd',
      type: 'charge',
      reporting_category: 'charge',
      source: charge.id,
      status: 'pending',
      description: 'Order 42',
    });
    expect(txn.fee_details).toEqual([
      {
        amount: 320,
        application: null,
        currency: 'usd',
        description: 'Stripe processing fees',
        type: 'stripe_fee',
      },
    ]);
    expect(txn.available_on % DAY).toBe(0);
    expect(txn.available_on - txn.created).toBeGreaterThan((AVAILABLE_AFTER_DAYS - 1) * DAY);
    expect(txn.available_on - txn.created).toBeLessThanOrEqual((AVAILABLE_AFTER_DAYS + 1) * DAY);
    expect(await stripe.balanceTransactions.retrieve(txn.id)).toEqual(txn);
  });

  it('has no balance transaction for a declined charge', async () => {
    const { stripe } = kit.client();
    const failed = await pay(stripe, 500, 'pm_card_visa_chargeDeclined').catch(
      (err: { payment_intent?: Stripe.PaymentIntent }) => err.payment_intent,
    );
    const charge = await stripe.charges.retrieve(failed?.latest_charge as string);
    expect(charge.status).toBe('failed');
    expect(charge.balance_transaction).toBeNull();
    const all = await stripe.balanceTransactions.list();
    expect(all.data).toEqual([]);
  });

  it('records a refund as a negative amount with no fee, expandable from the refund, and lists with filters', async () => {
    const { stripe } = kit.client();
    const pi = await pay(stripe, 2_000);
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
    const expanded = await stripe.refunds.retrieve(refund.id, { expand: ['balance_transaction'] });
    const txn = expanded.balance_transaction as Stripe.BalanceTransaction;
    expect(txn).toMatchObject({
      amount: -500,
      fee: 0,
      net: -500,
      type: 'refund',
      reporting_category: 'refund',
      source: refund.id,
      status: 'available',
      fee_details: [],
    });

    const all = await stripe.balanceTransactions.list();
    expect(all).toMatchObject({ object: 'list', url: '/v1/balance_transactions', has_more: false });
    expect(all.data.map((t) => t.type).sort()).toEqual(['charge', 'refund']);
    const refunds = await stripe.balanceTransactions.list({ type: 'refund' });
    expect(refunds.data.map((t) => t.id)).toEqual([txn.id]);
    const bySource = await stripe.balanceTransactions.list({ source: pi.latest_charge as string });
    expect(bySource.data).toHaveLength(1);
    expect(bySource.data[0]?.amount).toBe(2_000);
    expect((await stripe.balanceTransactions.list({ currency: 'eur' })).data).toEqual([]);
    const withSource = await stripe.balanceTransactions.list({ type: 'refund', expand: ['data.source'] });
    expect((withSource.data[0]?.source as Stripe.Refund).id).toBe(refund.id);
  });

  it('credits a failed refund back as refund_failure', async () => {
    const { stripe } = kit.client();
    const pi = await pay(stripe, 1_500, 'pm_card_refundFail');
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    const failed = await until(
      () => stripe.refunds.retrieve(refund.id, { expand: ['failure_balance_transaction'] }),
      (r) => r.status === 'failed',
      'the refund to fail',
    );
    expect(failed.failure_balance_transaction).toMatchObject({
      amount: 1_500,
      net: 1_500,
      type: 'refund_failure',
      reporting_category: 'refund_failure',
      source: refund.id,
    });
  });

  it('answers 404 for an unknown id', async () => {
    const { stripe } = kit.client();
    await expect(stripe.balanceTransactions.retrieve('txn_nope')).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
  });

  it('computes the fee as Stripe prices cards, never above the amount', () => {
    expect(cardFee(10_000)).toBe(320);
    expect(cardFee(1_999)).toBe(88);
    expect(cardFee(10)).toBe(10);
  });
});
