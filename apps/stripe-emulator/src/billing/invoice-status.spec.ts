import { describe, expect, it } from '@jest/globals';
import {
  INVOICE_ACTIONS,
  INVOICE_STATUSES,
  invoiceAmounts,
  transitionInvoice,
  type InvoiceAction,
  type InvoiceStatus,
} from './invoice-status.js';

const allowed: Record<string, InvoiceStatus | 'deleted'> = {
  'draft/finalize': 'open',
  'draft/delete': 'deleted',
  'open/pay': 'paid',
  'open/payment_failed': 'open',
  'open/void': 'void',
  'open/mark_uncollectible': 'uncollectible',
  'uncollectible/pay': 'paid',
  'uncollectible/payment_failed': 'uncollectible',
  'uncollectible/void': 'void',
};

describe('invoice status machine', () => {
  const pairs: [InvoiceStatus, InvoiceAction][] = INVOICE_STATUSES.flatMap((s) =>
    INVOICE_ACTIONS.map((a): [InvoiceStatus, InvoiceAction] => [s, a]),
  );
  it.each(pairs)('%s + %s', (status, action) => {
    const result = transitionInvoice(status, action);
    const expected = allowed[`${status}/${action}`];
    const summary = result.ok
      ? { ok: true, status: result.status }
      : { ok: false, hasReason: result.reason.length > 0 };
    expect(summary).toEqual(
      expected === undefined ? { ok: false, hasReason: true } : { ok: true, status: expected },
    );
  });
});

describe('invoice amounts with the customer balance', () => {
  it('applies part of a credit', () => {
    expect(invoiceAmounts([1000], -300)).toEqual({
      subtotal: 1000,
      total: 1000,
      startingBalance: -300,
      amountDue: 700,
      endingBalance: 0,
    });
  });
  it('keeps the unused credit', () => {
    expect(invoiceAmounts([1000], -3000)).toMatchObject({ amountDue: 0, endingBalance: -2000 });
  });
  it('adds a debt the customer owes', () => {
    expect(invoiceAmounts([1000], 500)).toMatchObject({ amountDue: 1500, endingBalance: 0 });
  });
  it('turns a negative total into credit', () => {
    expect(invoiceAmounts([-1500, 1000], 0)).toMatchObject({
      subtotal: -500,
      amountDue: 0,
      endingBalance: -500,
    });
  });
});
