import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  balanceDrifts,
  invoiceDrifts,
  paymentDrifts,
  subscriptionDrifts,
  type BalanceFacts,
  type InvoiceFacts,
  type MirroredSubscriptionFacts,
  type PaymentFacts,
  type StripeSideSubscriptionFacts,
} from './drift.js';

const stripeSub: StripeSideSubscriptionFacts = {
  stripeId: 'sub_1',
  status: 'active',
  items: [
    { priceId: 'price_base', quantity: 1 },
    { priceId: 'price_seat', quantity: 2 },
  ],
  seats: 2,
  currentPeriodEnd: 1_800_000_000,
  cancelAtPeriodEnd: false,
};
const appSub: MirroredSubscriptionFacts = {
  stripeId: 'sub_1',
  accountId: 'acc',
  status: 'active',
  appState: 'active',
  basePriceId: 'price_base',
  seatPriceId: 'price_seat',
  seats: 2,
  currentPeriodEnd: 1_800_000_000,
  cancelAtPeriodEnd: false,
  grantsPaidTier: true,
};
const kinds = (drifts: { kind: string; safe: boolean }[]) =>
  drifts.map((d) => `${d.kind}:${d.safe ? 'safe' : 'unsafe'}`);

describe('subscriptionDrifts', () => {
  it('finds nothing when both sides agree', () => {
    expect(subscriptionDrifts(stripeSub, appSub)).toEqual([]);
    expect(subscriptionDrifts(null, null)).toEqual([]);
  });

  it('a subscription on one side only: missing in the app is safe, missing at Stripe is not', () => {
    expect(kinds(subscriptionDrifts(stripeSub, null))).toEqual(['missing_in_app:safe']);
    expect(kinds(subscriptionDrifts(null, appSub))).toEqual(['missing_in_stripe:unsafe']);
  });

  it('a status Stripe still bills is safe; one it no longer bills while the app grants a paid tier is not', () => {
    expect(kinds(subscriptionDrifts({ ...stripeSub, status: 'past_due' }, appSub))).toEqual(['status:safe']);
    expect(kinds(subscriptionDrifts({ ...stripeSub, status: 'canceled' }, appSub))).toEqual([
      'status:unsafe',
    ]);
    expect(kinds(subscriptionDrifts({ ...stripeSub, status: 'unpaid' }, appSub))).toEqual(['status:unsafe']);
    // The app grants nothing paid (already ended): applying Stripe's end is safe.
    const ended = { ...appSub, grantsPaidTier: false, status: 'past_due', appState: 'suspended' };
    expect(kinds(subscriptionDrifts({ ...stripeSub, status: 'canceled' }, ended))).toEqual(['status:safe']);
  });

  it('a price Stripe does not bill is a plan drift; seats are then not compared', () => {
    const moved = { ...stripeSub, items: [{ priceId: 'price_other', quantity: 1 }], seats: 0 };
    expect(kinds(subscriptionDrifts(moved, appSub))).toEqual(['plan:safe']);
    expect(kinds(subscriptionDrifts({ ...moved, status: 'canceled' }, appSub))).toEqual([
      'status:unsafe',
      'plan:unsafe',
    ]);
  });

  it('more seats at Stripe is safe, more in the app is not', () => {
    const more = { ...stripeSub, items: [stripeSub.items[0]!, { priceId: 'price_seat', quantity: 5 }] };
    expect(kinds(subscriptionDrifts(more, appSub))).toEqual(['seats:safe']);
    const fewer = { ...stripeSub, items: [stripeSub.items[0]!, { priceId: 'price_seat', quantity: 1 }] };
    expect(subscriptionDrifts(fewer, appSub)).toMatchObject([
      { kind: 'seats', safe: false, app: { seats: 2 }, stripe: { seats: 1 } },
    ]);
  });

  it('period end and cancel at period end are safe', () => {
    expect(
      kinds(
        subscriptionDrifts(
          { ...stripeSub, currentPeriodEnd: 1_800_086_400, cancelAtPeriodEnd: true },
          appSub,
        ),
      ),
    ).toEqual(['period_end:safe', 'cancel_at_period_end:safe']);
  });

  it('is unsafe exactly when the app would keep granting a paid tier Stripe does not bill (property)', () => {
    const statuses = ['active', 'trialing', 'past_due', 'canceled', 'unpaid', 'incomplete_expired', 'paused'];
    fc.assert(
      fc.property(fc.constantFrom(...statuses), fc.boolean(), (status, grants) => {
        const drifts = subscriptionDrifts({ ...stripeSub, status }, { ...appSub, grantsPaidTier: grants });
        const billed = ['active', 'trialing', 'past_due'].includes(status);
        const expected = status === 'active' ? [] : [`status:${grants && !billed ? 'unsafe' : 'safe'}`];
        expect(kinds(drifts)).toEqual(expected);
      }),
    );
  });
});

describe('invoiceDrifts', () => {
  const inv: InvoiceFacts = {
    stripeId: 'in_1',
    status: 'paid',
    currency: 'usd',
    amountDue: 2900,
    amountPaid: 2900,
    amountRemaining: 0,
    total: 2900,
  };
  it('a status behind Stripe is safe (amounts follow it); amounts that disagree under one status are not', () => {
    expect(invoiceDrifts(inv, inv)).toEqual([]);
    expect(
      kinds(invoiceDrifts(inv, { ...inv, status: 'open', amountPaid: 0, amountRemaining: 2900 })),
    ).toEqual(['invoice_status:safe']);
    expect(invoiceDrifts(inv, { ...inv, amountPaid: 2800 })).toMatchObject([
      { kind: 'invoice_amount', safe: false, app: { amountPaid: 2800 }, stripe: { amountPaid: 2900 } },
    ]);
    expect(kinds(invoiceDrifts(inv, null))).toEqual(['missing_in_app:safe']);
    expect(kinds(invoiceDrifts(null, inv))).toEqual(['missing_in_stripe:unsafe']);
  });
});

describe('paymentDrifts', () => {
  const pay: PaymentFacts = {
    stripeId: 'pi_1',
    status: 'succeeded',
    currency: 'usd',
    amount: 5000,
    amountRefunded: 0,
  };
  it('refunded statuses of a captured payment match a succeeded PaymentIntent', () => {
    expect(paymentDrifts(pay, { ...pay, status: 'partially_refunded' })).toEqual([]);
    expect(kinds(paymentDrifts(pay, { ...pay, amountRefunded: 100 }))).toEqual(['amount_refunded:unsafe']);
    expect(
      paymentDrifts(
        { ...pay, amountRefunded: 1000 },
        { ...pay, status: 'partially_refunded', amountRefunded: 1000 },
      ),
    ).toEqual([]);
  });

  it('status and refunds behind Stripe are safe; a different amount, or more refunded in the app, is not', () => {
    expect(kinds(paymentDrifts(pay, { ...pay, status: 'pending' }))).toEqual(['payment_status:safe']);
    expect(kinds(paymentDrifts({ ...pay, amountRefunded: 500 }, pay))).toEqual(['amount_refunded:safe']);
    expect(kinds(paymentDrifts({ ...pay, amount: 4000 }, pay))).toEqual(['payment_amount:unsafe']);
    expect(kinds(paymentDrifts(pay, null))).toEqual(['missing_in_app:safe']);
    expect(kinds(paymentDrifts(null, pay))).toEqual(['missing_in_stripe:unsafe']);
  });
});

describe('balanceDrifts (fees and nets)', () => {
  const charge: BalanceFacts = {
    balanceTransactionId: 'txn_1',
    currency: 'usd',
    amount: 5000,
    fee: 175,
    net: 4825,
  };
  const books = { currency: 'usd', amount: 5000, fee: 175, net: 4825 };

  it('finds nothing when the books agree with the balance transaction, or either side is missing', () => {
    expect(balanceDrifts(charge, books)).toEqual([]);
    const refund = { ...charge, amount: -1000, fee: 0, net: -1000 };
    expect(balanceDrifts(refund, { currency: 'usd', amount: -1000, fee: 0, net: -1000 })).toEqual([]);
    expect(balanceDrifts(null, books)).toEqual([]);
    expect(balanceDrifts(charge, null)).toEqual([]);
  });

  it('a fee and net the app has not recorded are safe: the mirror reads them', () => {
    const drifts = balanceDrifts(charge, { ...books, fee: null, net: null });
    expect(kinds(drifts)).toEqual(['fee:safe', 'net:safe']);
    expect(drifts[0]).toMatchObject({
      app: { fee: null },
      stripe: { fee: 175, balanceTransactionId: 'txn_1' },
    });
  });

  it('a recorded fee, net or amount that disagrees is unsafe', () => {
    expect(kinds(balanceDrifts({ ...charge, fee: 200, net: 4800 }, books))).toEqual([
      'fee:unsafe',
      'net:unsafe',
    ]);
    expect(kinds(balanceDrifts({ ...charge, net: 4800 }, books))).toEqual(['net:unsafe']);
    expect(kinds(balanceDrifts(charge, { ...books, amount: 4000 }))).toEqual(['balance_amount:unsafe']);
    expect(kinds(balanceDrifts({ ...charge, currency: 'eur' }, books))).toEqual(['balance_amount:unsafe']);
  });

  it('is safe exactly when every disagreeing value is one the app has not recorded', () => {
    const value = fc.option(fc.integer({ min: -10_000, max: 10_000 }), { nil: null });
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 10_000 }), value, value, (amount, fee, net) => {
        const drifts = balanceDrifts(charge, { currency: 'usd', amount, fee, net });
        for (const d of drifts) {
          const recorded = d.kind === 'balance_amount' ? amount : d.kind === 'fee' ? fee : net;
          expect(d.safe).toBe(d.kind !== 'balance_amount' && recorded === null);
        }
        const expected =
          Number(amount !== charge.amount) + Number(fee !== charge.fee) + Number(net !== charge.net);
        expect(drifts).toHaveLength(expected);
      }),
    );
  });
});
