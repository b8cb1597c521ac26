import { describe, expect, it } from '@jest/globals';
import {
  buildDispatchTable,
  type RegisteredBatchLock,
  type RegisteredCheck,
  type RegisteredHandler,
  type RegisteredReadAhead,
} from './stripe-event-dispatcher.js';

const handler = (name: string): RegisteredHandler => ({ name, fn: () => Promise.resolve('applied') });
const check = (name: string): RegisteredCheck => ({ name, fn: () => Promise.resolve(null) });
const lock = (name: string): RegisteredBatchLock => ({ name, fn: () => Promise.resolve() });
const ahead = (name: string): RegisteredReadAhead => ({ name, fn: () => Promise.resolve(new Map()) });

describe('buildDispatchTable', () => {
  it('maps each type to its one handler', () => {
    const a = handler('A.customer');
    const b = handler('B.invoice');
    const { table, conflicts } = buildDispatchTable([
      { type: 'customer.updated', handler: a },
      { type: 'customer.deleted', handler: a },
      { type: 'invoice.paid', handler: b },
    ]);
    expect(conflicts).toEqual([]);
    expect(table.get('customer.updated')).toBe(a);
    expect(table.get('customer.deleted')).toBe(a);
    expect(table.get('invoice.paid')).toBe(b);
    expect(table.get('charge.refunded')).toBeUndefined();
  });

  it('reports every type claimed more than once, naming the handlers', () => {
    const { conflicts } = buildDispatchTable([
      { type: 'invoice.paid', handler: handler('Invoices.onPaid') },
      { type: 'invoice.paid', handler: handler('Dunning.onPaid') },
      { type: 'charge.refunded', handler: handler('Refunds.onCharge') },
      { type: 'charge.refunded', handler: handler('Payments.onCharge') },
      { type: 'customer.updated', handler: handler('Accounts.customer') },
    ]);
    expect(conflicts).toEqual([
      'Stripe event "invoice.paid" has 2 handlers: Invoices.onPaid, Dunning.onPaid',
      'Stripe event "charge.refunded" has 2 handlers: Refunds.onCharge, Payments.onCharge',
    ]);
  });

  it("attaches each type's unchanged-check to its handler, and to no other type", () => {
    const payments = handler('Payments.onPaymentIntent');
    const unchanged = check('Payments.unchangedPaymentIntent');
    const { table, conflicts } = buildDispatchTable(
      [
        { type: 'payment_intent.succeeded', handler: payments },
        { type: 'payment_intent.canceled', handler: payments },
      ],
      [{ type: 'payment_intent.succeeded', check: unchanged }],
    );
    expect(conflicts).toEqual([]);
    expect(table.get('payment_intent.succeeded')).toEqual({ ...payments, unchanged: unchanged.fn });
    expect(table.get('payment_intent.canceled')?.unchanged).toBeUndefined();
    expect(payments.unchanged).toBeUndefined();
  });

  it('reports a check without a handler and a type checked twice', () => {
    const { conflicts } = buildDispatchTable(
      [{ type: 'invoice.paid', handler: handler('Invoices.onPaid') }],
      [
        { type: 'invoice.paid', check: check('Invoices.unchanged') },
        { type: 'invoice.paid', check: check('Dunning.unchanged') },
        { type: 'charge.refunded', check: check('Refunds.unchanged') },
      ],
    );
    expect(conflicts).toEqual([
      'Stripe event "charge.refunded" has an unchanged-check (Refunds.unchanged) but no handler',
      'Stripe event "invoice.paid" has 2 unchanged-checks: Invoices.unchanged, Dunning.unchanged',
    ]);
  });

  it("attaches each type's batch lock to its handler; reports a lock without a handler and a type locked twice", () => {
    const subscriptions = handler('Subscriptions.onSubscription');
    const locks = lock('Subscriptions.lockBatch');
    const { table, conflicts } = buildDispatchTable(
      [
        { type: 'customer.subscription.updated', handler: subscriptions },
        { type: 'checkout.session.completed', handler: subscriptions },
      ],
      [],
      {
        locks: [
          { type: 'customer.subscription.updated', lock: locks },
          { type: 'customer.subscription.updated', lock: lock('Other.lockBatch') },
          { type: 'invoice.paid', lock: lock('Invoices.lockBatch') },
        ],
      },
    );
    expect(table.get('customer.subscription.updated')).toEqual({ ...subscriptions, batchLock: locks.fn });
    expect(table.get('checkout.session.completed')?.batchLock).toBeUndefined();
    expect(conflicts).toEqual([
      'Stripe event "invoice.paid" has a batch lock (Invoices.lockBatch) but no handler',
      'Stripe event "customer.subscription.updated" has 2 batch locks: Subscriptions.lockBatch, Other.lockBatch',
    ]);
  });

  it("attaches each type's read-ahead to its handler; reports one without a handler and a type read twice", () => {
    const subscriptions = handler('Subscriptions.onSubscription');
    const read = ahead('Subscriptions.readAhead');
    const { table, conflicts } = buildDispatchTable(
      [
        { type: 'customer.subscription.updated', handler: subscriptions },
        { type: 'customer.subscription.deleted', handler: subscriptions },
      ],
      [],
      {
        aheads: [
          { type: 'customer.subscription.updated', ahead: read },
          { type: 'customer.subscription.deleted', ahead: read },
          { type: 'customer.subscription.deleted', ahead: ahead('Other.readAhead') },
          { type: 'invoice.paid', ahead: ahead('Invoices.readAhead') },
        ],
      },
    );
    expect(table.get('customer.subscription.updated')).toEqual({ ...subscriptions, readAhead: read.fn });
    expect(table.get('customer.subscription.deleted')?.readAhead).toBe(read.fn);
    expect(subscriptions.readAhead).toBeUndefined();
    expect(conflicts).toEqual([
      'Stripe event "invoice.paid" has a read-ahead (Invoices.readAhead) but no handler',
      'Stripe event "customer.subscription.deleted" has 2 read-aheads: Subscriptions.readAhead, Other.readAhead',
    ]);
  });
});
