import { describe, expect, it } from '@jest/globals';
import { buildDispatchTable, type RegisteredHandler } from './stripe-event-dispatcher.js';

const handler = (name: string): RegisteredHandler => ({ name, fn: () => Promise.resolve('applied') });

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
});
