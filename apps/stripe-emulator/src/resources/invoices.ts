import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { emitEvent } from '../core/events.js';
import { nowFor } from '../core/time.js';
import { invalidRequest, resourceMissing } from '../http/errors.js';
import { registerExpander, registerIncludable } from '../http/expand.js';
import {
  type FormParams,
  applyMetadata,
  optBool,
  optInt,
  optNonEmpty,
  optObject,
  optString,
  reqString,
} from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { installBilling } from '../billing/service/install.js';
import {
  confirmationSecretOf,
  createDraftInvoice,
  deleteDraft,
  finalizeInvoice,
  getInvoice,
  markUncollectible,
  payInvoice,
  subscriptionIdOf,
  voidInvoice,
} from '../billing/service/invoicing.js';
import { payments } from '../billing/service/payments.js';
import { getSubscription, previewSubscriptionInvoice } from '../billing/service/subscriptions.js';
import { registerInvoicePages } from '../pages/invoice-page.js';
import { getCustomer } from './customers.js';

function invoice(req: ApiRequest): Stripe.Invoice {
  return getInvoice(req.account, req.params.id ?? '');
}

function allPayments(account: ApiRequest['account']): Stripe.InvoicePayment[] {
  const out: Stripe.InvoicePayment[] = [];
  for (const inv of account.invoices.values()) out.push(...(inv.payments?.data ?? []));
  return out;
}

const INVOICE_PAYMENT_STATUSES: readonly string[] = ['canceled', 'open', 'paid'];
const PAYMENT_TYPES: readonly string[] = ['payment_intent', 'payment_record'];

/**
 * `payment[type]` with `payment[payment_intent]` or `payment[payment_record]`: the invoice payments of
 * one payment (how Stripe answers "which invoice does this PaymentIntent pay?" now that a PaymentIntent
 * has no `invoice` field). `payment[type]` is required whenever `payment` is given.
 */
function paymentFilter(query: FormParams): (p: Stripe.InvoicePayment) => boolean {
  const payment = optObject(query, 'payment');
  if (!payment) return () => true;
  const type = reqString(payment, 'type', 'payment[type]');
  if (!PAYMENT_TYPES.includes(type)) {
    throw invalidRequest(
      'Invalid payment[type]: must be one of payment_intent or payment_record',
      'payment[type]',
    );
  }
  const intent = optNonEmpty(payment, 'payment_intent', 'payment[payment_intent]');
  const record = optNonEmpty(payment, 'payment_record', 'payment[payment_record]');
  return (p) =>
    p.payment.type === type &&
    // Stored invoice payments hold ids (expansion works on the response).
    (intent === undefined || p.payment.payment_intent === intent) &&
    (record === undefined || p.payment.payment_record === record);
}

export function register(router: Router<ApiRequest>, ctx: EmulatorContext): void {
  installBilling(ctx);
  registerInvoicePages(ctx);
  registerExpander('invoice', 'subscription', (account, id) => account.subscriptions.get(id));
  registerExpander('invoice', 'parent.subscription_details.subscription', (account, id) =>
    account.subscriptions.get(id),
  );
  registerExpander('invoice', 'default_payment_method', (account, id) => account.payment_methods.get(id));
  registerExpander('invoice', 'test_clock', (account, id) => account.test_clocks.get(id));
  // Includable: only in a response that asks for it (`expand[]=latest_invoice.confirmation_secret`).
  registerIncludable('invoice', 'confirmation_secret', (account, parent) => {
    const invoice = account.invoices.get(String(parent.id));
    return invoice ? confirmationSecretOf(account, invoice) : null;
  });
  registerExpander('invoice_payment', 'payment.payment_intent', (account, id) =>
    account.payment_intents.get(id),
  );
  registerExpander('invoice_payment', 'payment.charge', (account, id) => account.charges.get(id));
  registerExpander('invoice_payment', 'invoice', (account, id) => account.invoices.get(id));
  registerExpander('line_item', 'subscription', (account, id) => account.subscriptions.get(id));

  router.post('/v1/invoices/create_preview', (req) => previewSubscriptionInvoice(req.account, req.body));

  router.post('/v1/invoices', (req) => {
    const body = req.body;
    const customer = getCustomer(req.account, reqString(body, 'customer'), 'customer');
    const subId = optNonEmpty(body, 'subscription');
    const sub = subId ? getSubscription(req.account, subId, 'subscription') : null;
    const pending = optNonEmpty(body, 'pending_invoice_items_behavior') ?? 'exclude';
    if (pending !== 'exclude' && pending !== 'include') {
      throw invalidRequest(
        'Invalid pending_invoice_items_behavior: must be one of exclude or include',
        'pending_invoice_items_behavior',
      );
    }
    const currency = (
      optNonEmpty(body, 'currency') ??
      sub?.currency ??
      customer.currency ??
      'usd'
    ).toLowerCase();
    const pm = optNonEmpty(body, 'default_payment_method');
    const collection =
      optNonEmpty(body, 'collection_method') === 'send_invoice' ? 'send_invoice' : 'charge_automatically';
    return createDraftInvoice(req.account, {
      customer,
      currency,
      subscription: sub,
      billingReason: 'manual',
      periodStart: nowFor(req.account, customer.id),
      periodEnd: nowFor(req.account, customer.id),
      lines: [],
      pendingItems: pending === 'include' ? (sub ? 'subscription' : 'customer') : 'none',
      autoAdvance: optBool(body, 'auto_advance') ?? false,
      finalizeAfterSeconds: null,
      description: optNonEmpty(body, 'description') ?? null,
      metadata: applyMetadata({}, body),
      defaultPaymentMethod: pm
        ? payments().resolvePaymentMethod(req.account, pm, customer.id, 'default_payment_method').id
        : null,
      collectionMethod: collection,
      daysUntilDue: optInt(body, 'days_until_due') ?? null,
    });
  });

  router.get('/v1/invoices', (req) => {
    const q = req.query;
    const customer = optNonEmpty(q, 'customer');
    const subscription = optNonEmpty(q, 'subscription');
    const status = optNonEmpty(q, 'status');
    const collection = optNonEmpty(q, 'collection_method');
    return paginate(req.account.invoices.values(), q, '/v1/invoices', {
      filter: (i) =>
        (customer === undefined || i.customer === customer) &&
        (subscription === undefined || subscriptionIdOf(i) === subscription) &&
        (status === undefined || i.status === status) &&
        (collection === undefined || i.collection_method === collection),
    });
  });
  router.get('/v1/invoices/:id', (req) => invoice(req));
  router.post('/v1/invoices/:id', (req) => {
    const inv = invoice(req);
    const body = req.body;
    const before = structuredClone(inv);
    if (body.metadata !== undefined) inv.metadata = applyMetadata(inv.metadata ?? {}, body);
    const description = optString(body, 'description');
    if (description !== undefined) inv.description = description === '' ? null : description;
    const autoAdvance = optBool(body, 'auto_advance');
    if (autoAdvance !== undefined) inv.auto_advance = autoAdvance;
    const pm = optString(body, 'default_payment_method');
    if (pm !== undefined) {
      inv.default_payment_method =
        pm === ''
          ? null
          : payments().resolvePaymentMethod(
              req.account,
              pm,
              typeof inv.customer === 'string' ? inv.customer : null,
              'default_payment_method',
            ).id;
    }
    const keys = Object.keys(body).filter((k) => k !== 'expand');
    const editableWhenFinal = new Set(['metadata', 'description', 'auto_advance', 'default_payment_method']);
    if (inv.status !== 'draft' && keys.some((k) => !editableWhenFinal.has(k))) {
      throw invalidRequest(
        'Finalized invoices can only update metadata, description, auto_advance and default_payment_method.',
        undefined,
        'invoice_not_editable',
      );
    }
    const previous: Record<string, unknown> = {};
    for (const k of keys)
      if (
        JSON.stringify((before as unknown as Record<string, unknown>)[k]) !==
        JSON.stringify((inv as unknown as Record<string, unknown>)[k])
      )
        previous[k] = (before as unknown as Record<string, unknown>)[k] ?? null;
    if (Object.keys(previous).length > 0)
      emitEvent(req.account, { type: 'invoice.updated', object: inv, previousAttributes: previous });
    return inv;
  });
  router.delete('/v1/invoices/:id', (req) => deleteDraft(req.account, invoice(req)));
  router.post('/v1/invoices/:id/finalize', (req) => {
    const inv = invoice(req);
    const autoAdvance = optBool(req.body, 'auto_advance');
    if (autoAdvance !== undefined) inv.auto_advance = autoAdvance;
    return finalizeInvoice(req.account, inv);
  });
  router.post('/v1/invoices/:id/pay', (req) => {
    const body = req.body;
    return payInvoice(req.account, invoice(req), {
      paymentMethod: optNonEmpty(body, 'payment_method'),
      paidOutOfBand: optBool(body, 'paid_out_of_band') === true,
      offSession: optBool(body, 'off_session') ?? false,
    });
  });
  router.post('/v1/invoices/:id/void', (req) => voidInvoice(req.account, invoice(req)));
  router.post('/v1/invoices/:id/mark_uncollectible', (req) => markUncollectible(req.account, invoice(req)));
  router.get('/v1/invoices/:id/lines', (req) => {
    const inv = invoice(req);
    // Lines keep invoice order (paginate lists newest first, so hand it the reversed order).
    return paginate([...inv.lines.data].reverse(), req.query, `/v1/invoices/${inv.id}/lines`, {
      sortNewestFirst: false,
      createdFilter: false,
    });
  });

  router.get('/v1/invoice_payments', (req) => {
    const q = req.query;
    const inv = optNonEmpty(q, 'invoice');
    const status = optNonEmpty(q, 'status');
    if (status !== undefined && !INVOICE_PAYMENT_STATUSES.includes(status)) {
      throw invalidRequest('Invalid status: must be one of canceled, open, or paid', 'status');
    }
    const byPayment = paymentFilter(q);
    const data = allPayments(req.account).filter(
      (p) =>
        (inv === undefined || p.invoice === inv) &&
        (status === undefined || p.status === status) &&
        byPayment(p),
    );
    return paginate(data, q, '/v1/invoice_payments', {});
  });
  router.get('/v1/invoice_payments/:id', (req) => {
    const id = req.params.id ?? '';
    const found = allPayments(req.account).find((p) => p.id === id);
    if (!found) throw resourceMissing('invoice_payment', id);
    return found;
  });
}
