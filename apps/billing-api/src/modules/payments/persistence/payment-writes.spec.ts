import { describe, expect, it } from '@jest/globals';
import { NO_BALANCE, NO_CARD_DETAILS, type PaymentOrmEntity } from './payment.orm-entity.js';
import { changedPaymentFields, paymentSnapshot } from './payment-writes.js';

const row = (): PaymentOrmEntity => ({
  id: 'p1',
  accountId: 'a1',
  stripePaymentIntentId: 'pi_1',
  stripeCustomerId: 'cus_1',
  amount: 2500,
  currency: 'usd',
  status: 'succeeded',
  amountReceived: 2500,
  amountRefunded: 0,
  description: null,
  orderReference: 'o-1',
  metadata: { plan: 'x' },
  stripePaymentMethodId: 'pm_1',
  ...NO_CARD_DETAILS,
  ...NO_BALANCE,
  failureCode: null,
  declineCode: null,
  failureMessage: null,
  latestChargeId: 'ch_1',
  checkoutSessionId: null,
  origin: 'api',
  succeededAt: new Date('2026-12-01T10:00:00Z'),
  stripeCreatedAt: new Date('2026-12-01T10:00:00Z'),
  lastEventCreated: 100,
  version: 3,
  createdAt: new Date('2026-12-01T10:00:00Z'),
  updatedAt: new Date('2026-12-01T10:00:00Z'),
});

describe('changedPaymentFields', () => {
  it('finds nothing in an equal copy, whatever its bookkeeping and its dates as new objects', () => {
    const before = row();
    const after = paymentSnapshot(before);
    after.version += 1;
    after.updatedAt = new Date();
    after.succeededAt = new Date('2026-12-01T10:00:00Z');
    expect(changedPaymentFields(before, after)).toEqual([]);
  });

  it('names each changed column: values, dates and metadata entries', () => {
    const before = row();
    const after = paymentSnapshot(before);
    after.status = 'partially_refunded';
    after.succeededAt = new Date('2026-12-01T10:00:01Z');
    after.metadata.plan = 'y';
    after.cardBrand = 'visa';
    expect(changedPaymentFields(before, after).sort()).toEqual([
      'cardBrand',
      'metadata',
      'status',
      'succeededAt',
    ]);
  });

  it('sees metadata keys added or removed, and a date set from null', () => {
    const before = { ...row(), succeededAt: null };
    const added = paymentSnapshot(before);
    added.metadata.extra = '1';
    expect(changedPaymentFields(before, added)).toEqual(['metadata']);
    const removed = paymentSnapshot(before);
    removed.metadata = {};
    expect(changedPaymentFields(before, removed)).toEqual(['metadata']);
    const dated = paymentSnapshot(before);
    dated.succeededAt = new Date();
    expect(changedPaymentFields(before, dated)).toEqual(['succeededAt']);
  });
});
