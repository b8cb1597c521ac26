import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { emitEvent } from '../core/events.js';
import { nowFor } from '../core/time.js';
import { invalidRequest, resourceMissing } from '../http/errors.js';
import {
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
import { addItemToDraft, getInvoice, recomputeDraftTotals } from '../billing/service/invoicing.js';
import { buildInvoiceItem, decimal } from '../billing/service/shapes.js';
import { getSubscription } from '../billing/service/subscriptions.js';
import { getCustomer } from './customers.js';

function getItem(req: ApiRequest): Stripe.InvoiceItem {
  const id = req.params.id ?? '';
  const item = req.account.invoiceitems.get(id);
  if (!item) throw resourceMissing('invoiceitem', id);
  return item;
}

function clockOf(customer: Stripe.Customer): string | null {
  const c = customer.test_clock;
  if (!c) return null;
  return typeof c === 'string' ? c : c.id;
}

export function register(router: Router<ApiRequest>, ctx: EmulatorContext): void {
  installBilling(ctx);
  router.post('/v1/invoiceitems', (req) => {
    const body = req.body;
    const account = req.account;
    const customer = getCustomer(account, reqString(body, 'customer'), 'customer');
    const now = nowFor(account, customer.id);
    const pricing = optObject(body, 'pricing');
    const priceId =
      (pricing ? optNonEmpty(pricing, 'price', 'pricing[price]') : undefined) ?? optNonEmpty(body, 'price');
    const price = priceId ? account.prices.get(priceId) : undefined;
    if (priceId && !price) throw resourceMissing('price', priceId, 'pricing[price]');
    const quantity = optInt(body, 'quantity') ?? 1;
    const priceData = optObject(body, 'price_data');
    let amount = optInt(body, 'amount');
    let unitDecimal = optNonEmpty(body, 'unit_amount_decimal');
    let currency = optNonEmpty(body, 'currency')?.toLowerCase();
    if (price) {
      amount = (price.unit_amount ?? 0) * quantity;
      unitDecimal = price.unit_amount_decimal === null ? undefined : String(price.unit_amount_decimal);
      currency ??= price.currency;
    } else if (priceData) {
      const unit = optInt(priceData, 'unit_amount', 'price_data[unit_amount]') ?? 0;
      amount = unit * quantity;
      unitDecimal = String(unit);
      currency ??= optNonEmpty(priceData, 'currency', 'price_data[currency]')?.toLowerCase();
    } else if (amount === undefined && unitDecimal !== undefined) {
      amount = Math.round(Number(unitDecimal) * quantity);
    }
    if (amount === undefined)
      throw invalidRequest(
        'You must specify either `amount`, `pricing[price]`, `price_data` or `unit_amount_decimal`.',
        'amount',
      );
    currency ??= customer.currency ?? undefined;
    if (!currency) throw invalidRequest('Missing required param: currency.', 'currency', 'parameter_missing');
    const invoiceId = optNonEmpty(body, 'invoice');
    const invoice = invoiceId ? getInvoice(account, invoiceId, 'invoice') : undefined;
    const subId = optNonEmpty(body, 'subscription');
    if (subId) getSubscription(account, subId, 'subscription');
    const period = optObject(body, 'period');
    const item = buildInvoiceItem({
      customer: customer.id,
      currency,
      amount,
      date: now,
      description: optNonEmpty(body, 'description') ?? price?.nickname ?? null,
      invoice: invoice?.id ?? null,
      metadata: applyMetadata({}, body),
      periodStart: (period ? optInt(period, 'start', 'period[start]') : undefined) ?? now,
      periodEnd: (period ? optInt(period, 'end', 'period[end]') : undefined) ?? now,
      price: price ?? null,
      unitAmountDecimal:
        unitDecimal === undefined ? decimal(String(amount / Math.max(quantity, 1))) : decimal(unitDecimal),
      quantity,
      proration: false,
      subscription: subId ?? null,
      subscriptionItem: null,
      testClock: clockOf(customer),
    });
    const discountable = optBool(body, 'discountable');
    if (discountable !== undefined) item.discountable = discountable;
    if (invoice) addItemToDraft(account, invoice, item);
    account.invoiceitems.set(item.id, item);
    emitEvent(account, { type: 'invoiceitem.created', object: item });
    return item;
  });
  router.get('/v1/invoiceitems', (req) => {
    const q = req.query;
    const customer = optNonEmpty(q, 'customer');
    const invoice = optNonEmpty(q, 'invoice');
    const pending = optBool(q, 'pending');
    return paginate(req.account.invoiceitems.values(), q, '/v1/invoiceitems', {
      filter: (i) =>
        (customer === undefined || i.customer === customer) &&
        (invoice === undefined || i.invoice === invoice) &&
        (pending === undefined || (i.invoice === null) === pending),
    });
  });
  router.get('/v1/invoiceitems/:id', (req) => getItem(req));
  router.post('/v1/invoiceitems/:id', (req) => {
    const item = getItem(req);
    const body = req.body;
    const invoice = item.invoice
      ? req.account.invoices.get(typeof item.invoice === 'string' ? item.invoice : item.invoice.id)
      : undefined;
    if (invoice && invoice.status !== 'draft')
      throw invalidRequest(
        'Invoice items on finalized invoices cannot be updated.',
        undefined,
        'invoice_not_editable',
      );
    if (body.metadata !== undefined) item.metadata = applyMetadata(item.metadata ?? {}, body);
    const description = optString(body, 'description');
    if (description !== undefined) item.description = description === '' ? null : description;
    const amount = optInt(body, 'amount');
    if (amount !== undefined) item.amount = amount;
    if (invoice) {
      const line = invoice.lines.data.find(
        (l) =>
          l.parent?.invoice_item_details?.invoice_item === item.id ||
          l.parent?.subscription_item_details?.invoice_item === item.id,
      );
      if (line) {
        line.amount = item.amount;
        line.subtotal = item.amount;
        line.description = item.description;
        line.metadata = item.metadata ?? {};
      }
      recomputeDraftTotals(invoice);
    }
    return item;
  });
  router.delete('/v1/invoiceitems/:id', (req) => {
    const item = getItem(req);
    const invoice = item.invoice
      ? req.account.invoices.get(typeof item.invoice === 'string' ? item.invoice : item.invoice.id)
      : undefined;
    if (invoice && invoice.status !== 'draft')
      throw invalidRequest(
        'Invoice items on finalized invoices cannot be deleted.',
        undefined,
        'invoice_not_editable',
      );
    if (invoice) {
      invoice.lines.data = invoice.lines.data.filter(
        (l) =>
          l.parent?.invoice_item_details?.invoice_item !== item.id &&
          l.parent?.subscription_item_details?.invoice_item !== item.id,
      );
      recomputeDraftTotals(invoice);
    }
    req.account.invoiceitems.delete(item.id);
    req.account.deleted.set(item.id, 'invoiceitem');
    emitEvent(req.account, { type: 'invoiceitem.deleted', object: item });
    const deleted: Stripe.DeletedInvoiceItem = { id: item.id, object: 'invoiceitem', deleted: true };
    return deleted;
  });
}
