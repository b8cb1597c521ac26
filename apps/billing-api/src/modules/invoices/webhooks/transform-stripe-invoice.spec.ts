import { describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { loadStripeEvents, objectOf } from '../../../../test-support/stripe-fixtures.js';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import { transformStripeInvoice } from './transform-stripe-invoice.js';

/** Events the emulator delivered (API 2026-10-28.endive), captured as fixtures beside this spec. */
const events = loadStripeEvents(new URL('./fixtures/stripe-events.json', import.meta.url));

describe('transformStripeInvoice', () => {
  it('maps a paid subscription invoice with its subscription from parent.subscription_details', () => {
    const invoice = objectOf<Stripe.Invoice>(events.paid);
    const values = transformStripeInvoice(invoice);
    expect(values).toMatchObject({
      stripeInvoiceId: invoice.id,
      stripeCustomerId: invoice.customer,
      stripeSubscriptionId: invoice.parent?.subscription_details?.subscription,
      number: invoice.number,
      status: 'paid',
      billingReason: 'subscription_create',
      currency: 'usd',
      amountDue: 4100,
      amountPaid: 4100,
      amountRemaining: 0,
      total: 4100,
      attemptCount: 1,
      nextPaymentAttempt: null,
      hostedInvoiceUrl: invoice.hosted_invoice_url,
      invoicePdf: invoice.invoice_pdf,
    });
    expect(values?.stripeSubscriptionId).toMatch(/^sub_/);
    expect(values?.stripeCreatedAt.getTime()).toBe(invoice.created * 1000);
    expect(values?.paidAt).not.toBeNull();
  });

  it('maps a draft and a finalized invoice', () => {
    expect(transformStripeInvoice(objectOf(events.created))?.status).toBe('draft');
    expect(transformStripeInvoice(objectOf(events.finalized))?.status).toMatch(/^(open|paid)$/);
  });

  it('reads the retry schedule of a failed attempt', () => {
    const invoice = {
      ...objectOf<Stripe.Invoice>(events.finalized),
      status: 'open',
      attempt_count: 2,
      next_payment_attempt: 1795578066,
      amount_paid: 0,
      amount_remaining: 4100,
    } as Stripe.Invoice;
    expect(transformStripeInvoice(invoice)).toMatchObject({
      status: 'open',
      attemptCount: 2,
      nextPaymentAttempt: new Date(1795578066 * 1000),
      amountRemaining: 4100,
      paidAt: null,
    });
  });

  it('returns null for invoice.upcoming, which has no id', () => {
    const upcoming = {
      ...objectOf<Stripe.Invoice>(events.created),
      id: undefined,
    } as unknown as Stripe.Invoice;
    expect(transformStripeInvoice(upcoming)).toBeNull();
  });

  it('returns null for a preview with its upcoming_in_ id (create_preview, invoice.upcoming)', () => {
    const preview = {
      ...objectOf<Stripe.Invoice>(events.created),
      id: 'upcoming_in_Cpi8MCbmgWZxY7Zspixdtze5',
      billing_reason: 'upcoming',
    } as Stripe.Invoice;
    expect(transformStripeInvoice(preview)).toBeNull();
  });

  it('has no subscription for a one-off invoice', () => {
    const invoice = { ...objectOf<Stripe.Invoice>(events.created), parent: null } as Stripe.Invoice;
    expect(transformStripeInvoice(invoice)?.stripeSubscriptionId).toBeNull();
  });

  it('refuses fractional amounts and unknown statuses permanently', () => {
    const invoice = objectOf<Stripe.Invoice>(events.paid);
    expect(() => transformStripeInvoice({ ...invoice, amount_due: 41.5 })).toThrow(PermanentEventError);
    expect(() => transformStripeInvoice({ ...invoice, status: 'lost' })).toThrow(/unknown status/);
  });
});
