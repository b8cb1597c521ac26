/**
 * Subscriptions on the emulator's state: create (trials, payment behaviours), update (items,
 * prorations), cancel, pause/resume, preview, and the clock-driven lifecycle (trial end, renewal,
 * dunning outcome, incomplete expiry). Pure arithmetic comes from ../calendar, ../proration,
 * ../timeline and ../dunning.
 */
import type Stripe from 'stripe';
import { diffAttributes, emitEvent } from '../../core/events.js';
import { newId } from '../../core/ids.js';
import type { Account } from '../../core/state.js';
import { nowFor } from '../../core/time.js';
import { invalidRequest, missingParam, resourceMissing } from '../../http/errors.js';
import {
  type FormParams,
  applyMetadata,
  isObject,
  optBool,
  optInt,
  optNonEmpty,
  optObject,
  optObjectArray,
  optString,
  reqString,
} from '../../http/form.js';
import { getCustomer } from '../../resources/customers.js';
import { type Recurrence, boundary, indexOf, isInterval } from '../calendar.js';
import { invoiceAmounts } from '../invoice-status.js';
import { type PricedQuantity, ProrationError, prorationLines } from '../proration.js';
import {
  RENEWAL_FINALIZE_DELAY_SECONDS,
  type SubscriptionStatus,
  type SubscriptionTimelineView,
  TRIAL_WILL_END_LEAD_SECONDS,
} from '../timeline.js';
import {
  addInvoiceHooks,
  attemptPayment,
  createDraftInvoice,
  finalizeInvoice,
  markUncollectible,
  openInvoicePayment,
  previewInvoiceId,
  recomputeDraftTotals,
  subscriptionIdOf,
  voidInvoice,
} from './invoicing.js';
import { type ChargeResult, declineError, payments } from './payments.js';
import {
  decimal,
  buildInvoice,
  buildInvoiceItem,
  buildLineItem,
  buildSubscription,
  buildSubscriptionItem,
  planFromPrice,
  productIdOf,
} from './shapes.js';

/** Emulator-only facts about a subscription. */
export interface SubscriptionInternal {
  trialWillEndSent?: boolean;
  upcomingSentFor?: number;
  /** Items to apply when the invoice of a `pending_if_incomplete` update is paid. */
  pendingUpdateInvoice?: string;
  pendingItems?: ItemSpec[];
}

export type ProrationBehavior = 'create_prorations' | 'always_invoice' | 'none';
const PAYMENT_BEHAVIORS = [
  'allow_incomplete',
  'default_incomplete',
  'error_if_incomplete',
  'pending_if_incomplete',
] as const;
type PaymentBehavior = (typeof PAYMENT_BEHAVIORS)[number];

export function getSubscription(account: Account, id: string, param = 'id'): Stripe.Subscription {
  const sub = account.subscriptions.get(id);
  if (!sub) throw resourceMissing('subscription', id, param);
  return sub;
}

export function internalOfSubscription(account: Account, id: string): SubscriptionInternal {
  return account.internalOf(id);
}

function customerIdOf(sub: Stripe.Subscription): string {
  return typeof sub.customer === 'string' ? sub.customer : sub.customer.id;
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

export function recurrenceOf(price: Stripe.Price): Recurrence {
  const r = price.recurring;
  if (!r || !isInterval(r.interval)) {
    throw invalidRequest(
      `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
      'items',
    );
  }
  return { interval: r.interval, intervalCount: r.interval_count };
}

export function subscriptionRecurrence(sub: Stripe.Subscription): Recurrence {
  const first = sub.items.data[0];
  if (!first) throw invalidRequest('Subscription has no items');
  return recurrenceOf(first.price);
}

export function periodOf(sub: Stripe.Subscription): { start: number; end: number } {
  const first = sub.items.data[0];
  if (!first) return { start: sub.start_date, end: sub.start_date };
  return { start: first.current_period_start, end: first.current_period_end };
}

function setPeriod(sub: Stripe.Subscription, start: number, end: number): void {
  for (const item of sub.items.data) {
    item.current_period_start = start;
    item.current_period_end = end;
  }
}

function snapshot<T>(value: T): T {
  return structuredClone(value);
}

function emitUpdated(account: Account, sub: Stripe.Subscription, before: Stripe.Subscription): void {
  const previous = diffAttributes(before, sub);
  if (previous)
    emitEvent(account, { type: 'customer.subscription.updated', object: sub, previousAttributes: previous });
}

// ---------------------------------------------------------------------------------------------
// Items

export interface ItemSpec {
  /** Existing subscription item id when the item is kept or changed. */
  id: string | null;
  price: Stripe.Price;
  quantity: number;
  metadata: Stripe.Metadata;
}

function getPrice(account: Account, id: string, param: string): Stripe.Price {
  const price = account.prices.get(id);
  if (!price) throw resourceMissing('price', id, param);
  return price;
}

function priceFromData(account: Account, data: FormParams, param: string): Stripe.Price {
  const currency = reqString(data, 'currency', `${param}[currency]`).toLowerCase();
  const product = reqString(data, 'product', `${param}[product]`);
  if (!account.products.has(product)) throw resourceMissing('product', product, `${param}[product]`);
  const recurring = optObject(data, 'recurring', `${param}[recurring]`);
  if (!recurring) throw missingParam(`${param}[recurring]`);
  const interval = reqString(recurring, 'interval', `${param}[recurring][interval]`);
  if (!isInterval(interval))
    throw invalidRequest(`Invalid interval: ${interval}`, `${param}[recurring][interval]`);
  const unit = optInt(data, 'unit_amount', `${param}[unit_amount]`) ?? 0;
  const price: Stripe.Price = {
    id: newId('price'),
    object: 'price',
    active: false,
    billing_scheme: 'per_unit',
    created: nowFor(account),
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product,
    recurring: {
      interval,
      interval_count: optInt(recurring, 'interval_count', `${param}[recurring][interval_count]`) ?? 1,
      meter: null,
      trial_period_days: null,
      usage_type: 'licensed',
    },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: unit,
    unit_amount_decimal: decimal(String(unit)),
  };
  account.prices.set(price.id, price);
  return price;
}

function quantityParam(params: FormParams, param: string): number | undefined {
  const q = optInt(params, 'quantity', `${param}[quantity]`);
  if (q !== undefined && q < 0)
    throw invalidRequest('Invalid quantity: must be at least 0', `${param}[quantity]`);
  return q;
}

function resolveNewItem(account: Account, params: FormParams, param: string): ItemSpec {
  const priceId =
    optNonEmpty(params, 'price', `${param}[price]`) ?? optNonEmpty(params, 'plan', `${param}[plan]`);
  const priceData = optObject(params, 'price_data', `${param}[price_data]`);
  let price: Stripe.Price;
  if (priceId) price = getPrice(account, priceId, `${param}[price]`);
  else if (priceData) price = priceFromData(account, priceData, `${param}[price_data]`);
  else throw missingParam(`${param}[price]`);
  recurrenceOf(price);
  return {
    id: null,
    price,
    quantity: quantityParam(params, param) ?? 1,
    metadata: applyMetadata({}, params),
  };
}

function checkCompatible(items: ItemSpec[], param: string): { currency: string; recurrence: Recurrence } {
  const first = items[0];
  if (!first) throw missingParam(param);
  const recurrence = recurrenceOf(first.price);
  for (const item of items) {
    if (item.price.currency !== first.price.currency) {
      throw invalidRequest('All prices on a subscription must have the same `currency`.', param);
    }
    const r = recurrenceOf(item.price);
    if (r.interval !== recurrence.interval || r.intervalCount !== recurrence.intervalCount) {
      throw invalidRequest(
        'The price specified has a different billing interval than the other prices on the subscription. All prices on a subscription must have the same `recurring.interval` and `recurring.interval_count`.',
        param,
      );
    }
  }
  return { currency: first.price.currency, recurrence };
}

function specsOf(sub: Stripe.Subscription): ItemSpec[] {
  return sub.items.data.map((item) => ({
    id: item.id,
    price: item.price,
    quantity: item.quantity ?? 1,
    metadata: item.metadata,
  }));
}

/** A new subscription item of `subscription` built from `spec`, over the given period. */
function itemFromSpec(
  subscription: string,
  spec: ItemSpec,
  created: number,
  period: { periodStart: number; periodEnd: number },
): Stripe.SubscriptionItem {
  return buildSubscriptionItem({
    subscription,
    price: spec.price,
    quantity: spec.quantity,
    metadata: spec.metadata,
    created,
    ...period,
  });
}

/** Applies `items[...]` update params (id / price / quantity / deleted / metadata) to the current items. */
export function applyItemParams(
  account: Account,
  current: ItemSpec[],
  params: FormParams[],
  param = 'items',
): ItemSpec[] {
  const next = current.map((s) => ({ ...s }));
  params.forEach((p, i) => {
    const path = `${param}[${i}]`;
    const id = optNonEmpty(p, 'id', `${path}[id]`);
    if (id) {
      const index = next.findIndex((s) => s.id === id);
      const existing = next[index];
      if (!existing) throw resourceMissing('subscription_item', id, `${path}[id]`);
      if (optBool(p, 'deleted', `${path}[deleted]`) === true) {
        next.splice(index, 1);
        return;
      }
      const priceId = optNonEmpty(p, 'price', `${path}[price]`) ?? optNonEmpty(p, 'plan', `${path}[plan]`);
      const priceData = optObject(p, 'price_data', `${path}[price_data]`);
      if (priceId) existing.price = getPrice(account, priceId, `${path}[price]`);
      else if (priceData) existing.price = priceFromData(account, priceData, `${path}[price_data]`);
      const q = quantityParam(p, path);
      if (q !== undefined) existing.quantity = q;
      existing.metadata = applyMetadata(existing.metadata, p);
      return;
    }
    next.push(resolveNewItem(account, p, path));
  });
  if (next.length === 0) {
    throw invalidRequest(
      'A subscription must have at least one active plan. To cancel a subscription, send a DELETE request.',
      param,
    );
  }
  return next;
}

function priced(specs: ItemSpec[], ids: (string | null)[]): PricedQuantity[] {
  return specs.map((s, i) => ({
    itemId: ids[i] ?? s.id ?? `new_${i}`,
    priceId: s.price.id,
    unitAmount: s.price.unit_amount ?? 0,
    quantity: s.quantity,
  }));
}

// ---------------------------------------------------------------------------------------------
// Money text for line descriptions

function money(amount: number, currency: string): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const symbol =
    currency === 'usd'
      ? '$'
      : currency === 'eur'
        ? '€'
        : currency === 'gbp'
          ? '£'
          : `${currency.toUpperCase()} `;
  return `${sign}${symbol}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function productName(account: Account, price: Stripe.Price): string {
  return account.products.get(productIdOf(price))?.name ?? price.nickname ?? price.id;
}

function intervalText(price: Stripe.Price): string {
  const r = price.recurring;
  if (!r) return '';
  return r.interval_count === 1 ? r.interval : `every ${r.interval_count} ${r.interval}s`;
}

function dateText(t: number): string {
  const d = new Date(t * 1000);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${d.getUTCDate()} ${months[d.getUTCMonth()] ?? ''} ${d.getUTCFullYear()}`;
}

function periodLines(
  account: Account,
  sub: Stripe.Subscription,
  start: number,
  end: number,
  trial: boolean,
): Parameters<typeof createDraftInvoice>[1]['lines'] {
  return sub.items.data.map((item) => {
    const qty = item.quantity ?? 1;
    const unit = item.price.unit_amount ?? 0;
    const name = productName(account, item.price);
    return {
      amount: trial ? 0 : unit * qty,
      description: trial
        ? `Trial period for ${name}`
        : `${qty} × ${name} (at ${money(unit, item.price.currency)} / ${intervalText(item.price)})`,
      periodStart: start,
      periodEnd: end,
      price: item.price,
      quantity: qty,
      subscription: sub.id,
      subscriptionItem: item.id,
      invoiceItem: null,
      proration: false,
      metadata: item.metadata,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Create

function trialEndParam(params: FormParams, now: number): number | 'now' | undefined {
  const raw = optString(params, 'trial_end');
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'now') return 'now';
  const t = optInt(params, 'trial_end');
  if (t === undefined) return undefined;
  if (t <= now)
    throw invalidRequest('Invalid timestamp: must be an integer Unix timestamp in the future.', 'trial_end');
  return t;
}

function paymentBehaviorParam(params: FormParams): PaymentBehavior {
  const v = optNonEmpty(params, 'payment_behavior') ?? 'allow_incomplete';
  if (!(PAYMENT_BEHAVIORS as readonly string[]).includes(v)) {
    throw invalidRequest(
      `Invalid payment_behavior: must be one of ${PAYMENT_BEHAVIORS.join(', ')}`,
      'payment_behavior',
    );
  }
  return v as PaymentBehavior;
}

function prorationBehaviorParam(params: FormParams, name = 'proration_behavior'): ProrationBehavior {
  const v = optNonEmpty(params, name) ?? 'create_prorations';
  if (v !== 'create_prorations' && v !== 'always_invoice' && v !== 'none') {
    throw invalidRequest(
      'Invalid proration_behavior: must be one of always_invoice, create_prorations, or none',
      name,
    );
  }
  return v;
}

function hasPaymentMethod(account: Account, sub: Stripe.Subscription): boolean {
  if (sub.default_payment_method) return true;
  const customer = account.customers.get(customerIdOf(sub));
  return Boolean(customer?.invoice_settings.default_payment_method);
}

function clockOf(customer: Stripe.Customer): string | null {
  return idOf(customer.test_clock);
}

function missingPaymentMethodParam(
  params: FormParams,
): Stripe.Subscription.TrialSettings.EndBehavior.MissingPaymentMethod {
  const settings = optObject(params, 'trial_settings');
  const end = settings ? optObject(settings, 'end_behavior', 'trial_settings[end_behavior]') : undefined;
  const v = end
    ? optNonEmpty(end, 'missing_payment_method', 'trial_settings[end_behavior][missing_payment_method]')
    : undefined;
  if (v === undefined) return 'create_invoice';
  if (v !== 'cancel' && v !== 'create_invoice' && v !== 'pause') {
    throw invalidRequest(
      'Invalid trial_settings[end_behavior][missing_payment_method]: must be one of cancel, create_invoice, or pause',
      'trial_settings[end_behavior][missing_payment_method]',
    );
  }
  return v;
}

function cancelAtParam(
  params: FormParams,
  now: number,
  sub: Stripe.Subscription | null,
): number | null | undefined {
  const raw = optString(params, 'cancel_at');
  if (raw === undefined) return undefined;
  if (raw === '') return null;
  if (raw === 'min_period_end' || raw === 'max_period_end') return sub ? periodOf(sub).end : undefined;
  const t = optInt(params, 'cancel_at');
  if (t === undefined) return null;
  if (t <= now) throw invalidRequest('Invalid cancel_at: must be in the future.', 'cancel_at');
  return t;
}

/** `billing_mode[type]`: `flexible` unless asked otherwise (the default since API 2025-09-30). */
function billingModeParam(params: FormParams): 'classic' | 'flexible' {
  const mode = optObject(params, 'billing_mode');
  const type = mode ? optNonEmpty(mode, 'type', 'billing_mode[type]') : undefined;
  if (type === undefined) return 'flexible';
  if (type !== 'classic' && type !== 'flexible') {
    throw invalidRequest(
      'Invalid billing_mode[type]: must be one of classic or flexible',
      'billing_mode[type]',
    );
  }
  return type;
}

/** `payment_settings[save_default_payment_method]`: `on_subscription` keeps the paying card as the subscription's default. */
function saveDefaultPaymentMethodParam(params: FormParams): 'off' | 'on_subscription' {
  const settings = optObject(params, 'payment_settings');
  const v = settings
    ? optNonEmpty(settings, 'save_default_payment_method', 'payment_settings[save_default_payment_method]')
    : undefined;
  if (v === undefined || v === 'off') return 'off';
  if (v !== 'on_subscription') {
    throw invalidRequest(
      'Invalid payment_settings[save_default_payment_method]: must be one of off or on_subscription',
      'payment_settings[save_default_payment_method]',
    );
  }
  return v;
}

/** `POST /v1/subscriptions`. */
export function createSubscription(account: Account, params: FormParams): Stripe.Subscription {
  const customerId = reqString(params, 'customer');
  const customer = getCustomer(account, customerId, 'customer');
  const itemParams = optObjectArray(params, 'items');
  if (!itemParams || itemParams.length === 0) throw missingParam('items');
  const specs = itemParams.map((p, i) => resolveNewItem(account, p, `items[${i}]`));
  const { currency, recurrence } = checkCompatible(specs, 'items');
  const now = nowFor(account, customerId);
  const paymentBehavior = paymentBehaviorParam(params);
  const collectionMethod =
    optNonEmpty(params, 'collection_method') === 'send_invoice' ? 'send_invoice' : 'charge_automatically';

  let trialEnd: number | null = null;
  const trialParam = trialEndParam(params, now);
  const trialDays = optInt(params, 'trial_period_days');
  if (trialParam !== undefined && trialParam !== 'now') trialEnd = trialParam;
  else if (trialParam === undefined && trialDays !== undefined && trialDays > 0)
    trialEnd = now + trialDays * 86_400;
  else if (trialParam === undefined && optBool(params, 'trial_from_plan') === true) {
    const days = specs[0]?.price.recurring?.trial_period_days;
    if (days) trialEnd = now + days * 86_400;
  }
  if (trialDays !== undefined && (trialDays < 0 || trialDays > 730)) {
    throw invalidRequest('trial_period_days must be between 0 and 730', 'trial_period_days');
  }

  let defaultPm: string | null = null;
  const pmParam = optNonEmpty(params, 'default_payment_method');
  if (pmParam)
    defaultPm = payments().resolvePaymentMethod(account, pmParam, customerId, 'default_payment_method').id;

  const id = newId('sub');
  const trialing = trialEnd !== null;
  const anchor = trialEnd ?? now;
  const periodEnd = trialEnd ?? boundary(anchor, recurrence, 1);
  const items = specs.map((s) => itemFromSpec(id, s, now, { periodStart: now, periodEnd }));
  const sub = buildSubscription({
    id,
    customer: customerId,
    currency,
    created: now,
    startDate: now,
    billingCycleAnchor: anchor,
    status: trialing ? 'trialing' : 'incomplete',
    items,
    defaultPaymentMethod: defaultPm,
    metadata: applyMetadata({}, params),
    description: optNonEmpty(params, 'description') ?? null,
    trialStart: trialing ? now : null,
    trialEnd,
    missingPaymentMethod: missingPaymentMethodParam(params),
    testClock: clockOf(customer),
    collectionMethod,
    daysUntilDue: collectionMethod === 'send_invoice' ? (optInt(params, 'days_until_due') ?? 30) : null,
    billingMode: billingModeParam(params),
    saveDefaultPaymentMethod: saveDefaultPaymentMethodParam(params),
  });
  const cancelAt = cancelAtParam(params, now, sub);
  if (cancelAt !== undefined) sub.cancel_at = cancelAt;
  if (optBool(params, 'cancel_at_period_end') === true) {
    sub.cancel_at_period_end = true;
    sub.cancel_at = periodEnd;
  }

  const lines = periodLines(account, sub, now, periodEnd, trialing);
  const expectedDue = invoiceAmounts(
    lines.map((l) => l.amount),
    customer.balance,
  ).amountDue;

  // error_if_incomplete: charge before anything exists; a decline is a 402 and nothing is created.
  let prepaid: { result: ChargeResult; invoiceId: string } | null = null;
  if (
    paymentBehavior === 'error_if_incomplete' &&
    expectedDue > 0 &&
    collectionMethod === 'charge_automatically'
  ) {
    const pm = defaultPm ?? idOf(customer.invoice_settings.default_payment_method);
    if (!pm) {
      throw invalidRequest(
        'This customer has no attached payment source or default payment method. Please consider adding a default payment method.',
        undefined,
        'resource_missing',
      );
    }
    const invoiceId = newId('in');
    const result = payments().charge(account, {
      amount: expectedDue,
      currency,
      customer: customerId,
      paymentMethod: pm,
      offSession: false,
      description: 'Subscription creation',
      metadata: {},
      invoiceId,
    });
    if (result.outcome !== 'succeeded') {
      throw declineError(result);
    }
    prepaid = { result, invoiceId };
  }

  account.subscriptions.set(id, sub);
  for (const item of items) account.subscription_items.set(item.id, item);
  emitEvent(account, { type: 'customer.subscription.created', object: sub });
  if (trialing && trialEnd !== null && trialEnd - now <= TRIAL_WILL_END_LEAD_SECONDS) {
    internalOfSubscription(account, id).trialWillEndSent = true;
    emitEvent(account, { type: 'customer.subscription.trial_will_end', object: sub });
  }

  const invoice = createDraftInvoice(account, {
    id: prepaid?.invoiceId,
    customer,
    currency,
    subscription: sub,
    billingReason: 'subscription_create',
    periodStart: now,
    periodEnd: now,
    lines,
    pendingItems: 'none',
    autoAdvance: collectionMethod === 'charge_automatically',
    finalizeAfterSeconds: null,
    collectionMethod,
    daysUntilDue: sub.days_until_due,
  });
  sub.latest_invoice = invoice.id;
  finalizeInvoice(account, invoice);
  if (invoice.status === 'open' && collectionMethod === 'charge_automatically') {
    if (prepaid)
      attemptPayment(account, invoice, { offSession: false, automatic: false, prepaid: prepaid.result });
    else if (paymentBehavior !== 'default_incomplete')
      attemptPayment(account, invoice, { offSession: false, automatic: false });
    // default_incomplete: the PaymentIntent waits for the client (latest_invoice.confirmation_secret).
    else openInvoicePayment(account, invoice);
  }
  if (collectionMethod === 'send_invoice' && sub.status === 'incomplete') {
    const before = snapshot(sub);
    sub.status = 'active';
    emitUpdated(account, sub, before);
  }
  return sub;
}

// ---------------------------------------------------------------------------------------------
// Invoice outcomes -> subscription status

function setStatus(account: Account, sub: Stripe.Subscription, status: SubscriptionStatus): void {
  if (sub.status === status) return;
  const before = snapshot(sub);
  sub.status = status;
  emitUpdated(account, sub, before);
}

addInvoiceHooks({
  onPaid(account, invoice) {
    const subId = subscriptionIdOf(invoice);
    const sub = subId ? account.subscriptions.get(subId) : undefined;
    if (!sub) return;
    const internal = internalOfSubscription(account, sub.id);
    if (internal.pendingUpdateInvoice === invoice.id && internal.pendingItems) {
      const before = snapshot(sub);
      replaceItems(account, sub, internal.pendingItems, nowFor(account, customerIdOf(sub)));
      sub.pending_update = null;
      delete internal.pendingUpdateInvoice;
      delete internal.pendingItems;
      if (sub.status === 'past_due' || sub.status === 'unpaid') sub.status = 'active';
      emitUpdated(account, sub, before);
      return;
    }
    if (sub.latest_invoice !== invoice.id) return;
    const before = snapshot(sub);
    if (
      sub.payment_settings?.save_default_payment_method === 'on_subscription' &&
      !sub.default_payment_method
    ) {
      const paid = invoice.payments?.data.find((p) => p.status === 'paid')?.payment.payment_intent;
      const pi = typeof paid === 'string' ? account.payment_intents.get(paid) : paid;
      const pm = pi?.payment_method;
      if (pm) sub.default_payment_method = typeof pm === 'string' ? pm : pm.id;
    }
    if (sub.status === 'incomplete' || sub.status === 'past_due' || sub.status === 'unpaid')
      sub.status = 'active';
    emitUpdated(account, sub, before);
  },
  onPaymentFailed(account, invoice, outcome) {
    const subId = subscriptionIdOf(invoice);
    const sub = subId ? account.subscriptions.get(subId) : undefined;
    if (!sub || invoice.billing_reason === 'subscription_create') return;
    // A pending update that is not paid leaves the subscription as it was.
    if (internalOfSubscription(account, sub.id).pendingUpdateInvoice === invoice.id) return;
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') return;
    if (outcome.dunningFinal === null) {
      if (sub.status === 'active' || sub.status === 'trialing') setStatus(account, sub, 'past_due');
      return;
    }
    switch (outcome.dunningFinal) {
      case 'past_due':
        setStatus(account, sub, 'past_due');
        return;
      case 'unpaid':
        setStatus(account, sub, 'unpaid');
        return;
      case 'canceled':
        cancelNow(account, sub, { reason: 'payment_failed' });
        return;
    }
  },
  onVoided() {
    // A voided renewal leaves the subscription as it is (Stripe does the same).
  },
});

// ---------------------------------------------------------------------------------------------
// Update

function replaceItems(account: Account, sub: Stripe.Subscription, specs: ItemSpec[], now: number): void {
  const { start, end } = periodOf(sub);
  const keep = new Set(specs.map((s) => s.id).filter((id): id is string => id !== null));
  for (const item of sub.items.data) {
    if (!keep.has(item.id)) {
      account.subscription_items.delete(item.id);
      account.deleted.set(item.id, 'subscription_item');
    }
  }
  sub.items.data = specs.map((s) => {
    const existing = s.id ? account.subscription_items.get(s.id) : undefined;
    if (existing) {
      existing.price = s.price;
      existing.plan = planFromPrice(s.price);
      existing.quantity = s.quantity;
      existing.metadata = s.metadata;
      return existing;
    }
    const item = itemFromSpec(sub.id, s, now, { periodStart: start, periodEnd: end });
    account.subscription_items.set(item.id, item);
    s.id = item.id;
    return item;
  });
}

export interface ProrationPlan {
  lines: Parameters<typeof createDraftInvoice>[1]['lines'];
  prorationDate: number;
}

/** The proration lines of changing `sub` to `next` at `prorationDate` (none during trials). */
export function planProrations(
  account: Account,
  sub: Stripe.Subscription,
  next: ItemSpec[],
  prorationDate: number,
): ProrationPlan {
  const { start, end } = periodOf(sub);
  if (sub.status === 'trialing') return { lines: [], prorationDate };
  const before = priced(
    specsOf(sub),
    sub.items.data.map((i) => i.id),
  );
  const after = priced(
    next,
    next.map((s) => s.id),
  );
  let raw;
  try {
    raw = prorationLines(before, after, start, end, prorationDate);
  } catch (err) {
    if (err instanceof ProrationError) throw invalidRequest(err.message, 'proration_date');
    throw err;
  }
  const priceById = new Map<string, Stripe.Price>();
  for (const s of [...specsOf(sub), ...next]) priceById.set(s.price.id, s.price);
  const lines = raw
    .filter((l) => l.amount !== 0)
    .map((l) => {
      const price = priceById.get(l.priceId) ?? null;
      const name = price ? productName(account, price) : l.priceId;
      return {
        amount: l.amount,
        description:
          l.amount < 0
            ? `Unused time on ${l.quantity} × ${name} after ${dateText(prorationDate)}`
            : `Remaining time on ${l.quantity} × ${name} after ${dateText(prorationDate)}`,
        periodStart: l.periodStart,
        periodEnd: l.periodEnd,
        price,
        quantity: l.quantity,
        subscription: sub.id,
        subscriptionItem: l.itemId.startsWith('new_') ? null : l.itemId,
        invoiceItem: null,
        proration: true,
        metadata: {},
      };
    });
  return { lines, prorationDate };
}

/** `proration_date` read from `params` (the request, or `subscription_details` of a preview); `param` names it in errors. */
function prorationDateParam(
  params: FormParams,
  sub: Stripe.Subscription,
  now: number,
  param = 'proration_date',
): number {
  const t = optInt(params, 'proration_date', param);
  if (t === undefined) return now;
  const { start, end } = periodOf(sub);
  if (t < start || t > end) {
    throw invalidRequest('The proration date must be within the current billing period.', param);
  }
  return t;
}

/**
 * The lines of an interval change (Stripe: the billing cycle restarts at the change): credits for the
 * unused time of the current items at `prorationDate` (none with `proration_behavior=none`), then the
 * full price of the new items for the new period from `now`. The same for the update and its preview.
 */
function intervalChangeLines(
  account: Account,
  sub: Stripe.Subscription,
  next: ItemSpec[],
  prorationDate: number,
  now: number,
  behavior: ProrationBehavior,
): ProrationPlan['lines'] {
  const credit =
    behavior === 'none'
      ? []
      : planProrations(
          account,
          sub,
          specsOf(sub).map((s) => ({ ...s, quantity: 0 })),
          prorationDate,
        ).lines;
  const end = boundary(now, recurrenceOf(next[0]!.price), 1);
  const period = next.map((s) => {
    const qty = s.quantity;
    const unit = s.price.unit_amount ?? 0;
    return {
      amount: unit * qty,
      description: `${qty} × ${productName(account, s.price)} (at ${money(unit, s.price.currency)} / ${intervalText(s.price)})`,
      periodStart: now,
      periodEnd: end,
      price: s.price,
      quantity: qty,
      subscription: sub.id,
      subscriptionItem: s.id,
      invoiceItem: null,
      proration: false,
      metadata: s.metadata,
    };
  });
  return [...credit, ...period];
}

/**
 * The draft invoice a change to `sub` bills at once (`subscription_update`, a zero-length period at
 * `at`, with the subscription's pending items); its `invoice.created` is left to the caller.
 */
function draftUpdateInvoice(
  account: Account,
  sub: Stripe.Subscription,
  customer: Stripe.Customer,
  at: number,
  lines: ProrationPlan['lines'],
): Stripe.Invoice {
  return createDraftInvoice(account, {
    customer,
    currency: sub.currency,
    subscription: sub,
    billingReason: 'subscription_update',
    periodStart: at,
    periodEnd: at,
    lines,
    pendingItems: 'subscription',
    autoAdvance: true,
    finalizeAfterSeconds: null,
    deferCreatedEvent: true,
  });
}

/** `POST /v1/subscriptions/:id`. */
export function updateSubscription(
  account: Account,
  sub: Stripe.Subscription,
  params: FormParams,
): Stripe.Subscription {
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
    throw invalidRequest(
      `A canceled subscription can only update its cancellation_details and metadata.`,
      undefined,
      'invalid_canceled_subscription_fields',
    );
  }
  const customerId = customerIdOf(sub);
  const customer = getCustomer(account, customerId, 'customer');
  const now = nowFor(account, customerId);
  const before = snapshot(sub);
  const paymentBehavior = paymentBehaviorParam(params);
  const prorationBehavior = prorationBehaviorParam(params);

  const pmParam = optString(params, 'default_payment_method');
  if (pmParam !== undefined) {
    sub.default_payment_method =
      pmParam === ''
        ? null
        : payments().resolvePaymentMethod(account, pmParam, customerId, 'default_payment_method').id;
  }
  if (params.metadata !== undefined) sub.metadata = applyMetadata(sub.metadata, params);
  const description = optString(params, 'description');
  if (description !== undefined) sub.description = description === '' ? null : description;
  const settings = optObject(params, 'trial_settings');
  if (settings && sub.trial_settings)
    sub.trial_settings.end_behavior.missing_payment_method = missingPaymentMethodParam(params);
  const details = optObject(params, 'cancellation_details');
  if (details) {
    const c = sub.cancellation_details ?? {
      comment: null,
      feedback: null,
      feedback_option: null,
      reason: null,
    };
    const comment = optString(details, 'comment', 'cancellation_details[comment]');
    if (comment !== undefined) c.comment = comment === '' ? null : comment;
    const feedback = optString(details, 'feedback', 'cancellation_details[feedback]');
    if (feedback !== undefined) c.feedback = feedback === '' ? null : feedback;
    sub.cancellation_details = c;
  }

  // Cancellation scheduling.
  const cap = optBool(params, 'cancel_at_period_end');
  if (cap === true) {
    sub.cancel_at_period_end = true;
    sub.cancel_at = periodOf(sub).end;
    sub.canceled_at = now;
    sub.cancellation_details = {
      ...(sub.cancellation_details ?? { comment: null, feedback: null, feedback_option: null }),
      reason: 'cancellation_requested',
    };
  } else if (cap === false) {
    sub.cancel_at_period_end = false;
    sub.cancel_at = null;
    sub.canceled_at = null;
    if (sub.cancellation_details) sub.cancellation_details.reason = null;
  }
  const cancelAt = cancelAtParam(params, now, sub);
  if (cancelAt !== undefined) {
    sub.cancel_at = cancelAt;
    sub.cancel_at_period_end = cancelAt !== null && cancelAt === periodOf(sub).end;
    sub.canceled_at = cancelAt === null ? null : now;
  }

  // pause_collection
  const pauseRaw = params.pause_collection;
  if (pauseRaw === '') sub.pause_collection = null;
  else if (isObject(pauseRaw)) {
    const behavior = reqString(pauseRaw, 'behavior', 'pause_collection[behavior]');
    if (behavior !== 'keep_as_draft' && behavior !== 'mark_uncollectible' && behavior !== 'void') {
      throw invalidRequest('Invalid pause_collection[behavior]', 'pause_collection[behavior]');
    }
    sub.pause_collection = {
      behavior,
      resumes_at: optInt(pauseRaw, 'resumes_at', 'pause_collection[resumes_at]') ?? null,
    };
  }

  // Items, price and quantity changes.
  const itemParams = optObjectArray(params, 'items');
  let invoiceNow: Stripe.Invoice | null = null;
  let prepaid: ChargeResult | undefined;
  if (itemParams && itemParams.length > 0) {
    const next = applyItemParams(account, specsOf(sub), itemParams);
    checkCompatible(next, 'items');
    const oldRecurrence = subscriptionRecurrence(sub);
    const newRecurrence = recurrenceOf(next[0]!.price);
    const intervalChanged =
      oldRecurrence.interval !== newRecurrence.interval ||
      oldRecurrence.intervalCount !== newRecurrence.intervalCount;
    const prorationDate = prorationDateParam(params, sub, now);
    const plan =
      prorationBehavior === 'none' || intervalChanged
        ? { lines: [], prorationDate }
        : planProrations(account, sub, next, prorationDate);

    if (intervalChanged && sub.status !== 'trialing') {
      // A new interval resets the billing cycle to now and is invoiced at once, whatever the
      // proration_behavior: the new period's full price, less the unused time of the old items
      // (none with `none`). A credit larger than the charge goes to the customer's balance.
      const lines = intervalChangeLines(account, sub, next, prorationDate, now, prorationBehavior);
      if (paymentBehavior === 'error_if_incomplete') {
        // Charge before changing anything: a decline is a 402 and the subscription stays as it was.
        prepaid = prechargeUpdate(account, sub, customer, lines, before);
      }
      replaceItems(account, sub, next, now);
      sub.billing_cycle_anchor = now;
      setPeriod(sub, now, boundary(now, newRecurrence, 1));
      invoiceNow = draftUpdateInvoice(account, sub, customer, now, withNewItemIds(sub, lines));
      invoiceNow.parent!.subscription_details!.subscription_proration_date = prorationDate;
    } else if (prorationBehavior === 'always_invoice' && plan.lines.length > 0) {
      const pending = paymentBehavior === 'pending_if_incomplete';
      const nextSpecs = next;
      if (paymentBehavior === 'error_if_incomplete') {
        // Charge before changing anything: a decline is a 402 and the subscription stays as it was.
        prepaid = prechargeUpdate(account, sub, customer, plan.lines, before);
      }
      if (!pending) replaceItems(account, sub, nextSpecs, now);
      // Lines for new items need their new ids.
      invoiceNow = draftUpdateInvoice(
        account,
        sub,
        customer,
        plan.prorationDate,
        withNewItemIds(sub, plan.lines),
      );
      invoiceNow.parent!.subscription_details!.subscription_proration_date = plan.prorationDate;
      if (pending) {
        const internal = internalOfSubscription(account, sub.id);
        internal.pendingUpdateInvoice = invoiceNow.id;
        internal.pendingItems = nextSpecs;
      }
    } else {
      replaceItems(account, sub, next, now);
      addPendingProrations(account, sub, withNewItemIds(sub, plan.lines), now);
    }
  }

  // trial_end: 'now' ends the trial immediately; a timestamp moves it.
  const trialParam = trialEndParam(params, now);
  if (trialParam === 'now' && sub.status === 'trialing') {
    sub.trial_end = now;
    setPeriod(sub, periodOf(sub).start, now);
  } else if (typeof trialParam === 'number') {
    sub.trial_end = trialParam;
    if (sub.status === 'trialing') setPeriod(sub, periodOf(sub).start, trialParam);
    internalOfSubscription(account, sub.id).trialWillEndSent = false;
  }

  if (invoiceNow) sub.latest_invoice = invoiceNow.id;
  emitUpdated(account, sub, before);

  if (invoiceNow) {
    emitEvent(account, { type: 'invoice.created', object: invoiceNow });
    finalizeInvoice(account, invoiceNow);
    if (invoiceNow.status === 'open') {
      if (paymentBehavior === 'error_if_incomplete') {
        const result = attemptPayment(account, invoiceNow, { offSession: false, automatic: false, prepaid });
        if (!result.ok) throw result.error;
      } else if (paymentBehavior === 'default_incomplete') {
        // As on create: the PaymentIntent waits for the client (latest_invoice.confirmation_secret).
        openInvoicePayment(account, invoiceNow);
      } else {
        const result = attemptPayment(account, invoiceNow, {
          offSession: false,
          automatic: paymentBehavior !== 'pending_if_incomplete',
        });
        if (!result.ok && paymentBehavior === 'pending_if_incomplete') {
          const internal = internalOfSubscription(account, sub.id);
          sub.pending_update = {
            billing_cycle_anchor: null,
            cancel_at_period_end: null,
            discount: null,
            discounts: null,
            expires_at: now + 23 * 3_600,
            metadata: null,
            subscription_items: (internal.pendingItems ?? []).map((s) =>
              itemFromSpec(sub.id, s, now, periodBounds(sub)),
            ),
            trial_end: null,
            trial_from_plan: null,
          };
        }
      }
    }
  }
  if (trialParam === 'now' && sub.status === 'trialing') endTrial(account, sub);
  return sub;
}

/**
 * error_if_incomplete on an immediately invoiced change: charge what the invoice will ask for first;
 * on a decline restore the subscription's own fields and answer 402 with nothing changed.
 */
function prechargeUpdate(
  account: Account,
  sub: Stripe.Subscription,
  customer: Stripe.Customer,
  lines: ProrationPlan['lines'],
  before: Stripe.Subscription,
): ChargeResult | undefined {
  let pendingTotal = 0;
  for (const item of account.invoiceitems.values()) {
    if (isPendingItemOf(item, sub)) pendingTotal += item.amount;
  }
  const due = invoiceAmounts([...lines.map((l) => l.amount), pendingTotal], customer.balance).amountDue;
  if (due === 0) return undefined;
  const restore = (): void => {
    const items = sub.items;
    Object.assign(sub, before);
    sub.items = items;
  };
  const pm = idOf(sub.default_payment_method) ?? idOf(customer.invoice_settings.default_payment_method);
  if (!pm) {
    restore();
    throw invalidRequest(
      'This customer has no attached payment source or default payment method. Please consider adding a default payment method.',
    );
  }
  const result = payments().charge(account, {
    amount: due,
    currency: sub.currency,
    customer: customer.id,
    paymentMethod: pm,
    offSession: false,
    description: 'Subscription update',
    metadata: {},
    invoiceId: null,
  });
  if (result.outcome === 'succeeded') return result;
  restore();
  throw declineError(result);
}

function periodBounds(sub: Stripe.Subscription): { periodStart: number; periodEnd: number } {
  const { start, end } = periodOf(sub);
  return { periodStart: start, periodEnd: end };
}

/** An invoice item of `sub`'s customer for `sub` not yet on an invoice (billed with its next one). */
function isPendingItemOf(item: Stripe.InvoiceItem, sub: Stripe.Subscription): boolean {
  return (
    item.invoice === null &&
    item.customer === customerIdOf(sub) &&
    item.parent?.subscription_details?.subscription === sub.id
  );
}

function matchNewItem(sub: Stripe.Subscription, price: Stripe.Price | null): string | null {
  if (!price) return null;
  return sub.items.data.find((i) => i.price.id === price.id)?.id ?? null;
}

/** Proration lines of items added by the change point at the new items (matched by price). */
function withNewItemIds(sub: Stripe.Subscription, lines: ProrationPlan['lines']): ProrationPlan['lines'] {
  return lines.map((l) => ({
    ...l,
    subscriptionItem: l.subscriptionItem ?? matchNewItem(sub, l.price),
  }));
}

/** Proration lines as pending invoice items of `sub` (billed with its next invoice), one event each. */
function addPendingProrations(
  account: Account,
  sub: Stripe.Subscription,
  lines: ProrationPlan['lines'],
  now: number,
): void {
  for (const line of lines) {
    const item = buildInvoiceItem({
      customer: customerIdOf(sub),
      currency: sub.currency,
      amount: line.amount,
      date: now,
      description: line.description,
      invoice: null,
      metadata: {},
      periodStart: line.periodStart,
      periodEnd: line.periodEnd,
      price: line.price,
      unitAmountDecimal: line.price?.unit_amount_decimal ?? null,
      quantity: line.quantity ?? 1,
      proration: true,
      subscription: sub.id,
      subscriptionItem: line.subscriptionItem,
      testClock: idOf(sub.test_clock),
    });
    account.invoiceitems.set(item.id, item);
    emitEvent(account, { type: 'invoiceitem.created', object: item });
  }
}

// ---------------------------------------------------------------------------------------------
// Cancel, pause, resume

export function cancelNow(
  account: Account,
  sub: Stripe.Subscription,
  options: {
    reason: Stripe.Subscription.CancellationDetails.Reason | null;
    prorate?: boolean;
    invoiceNow?: boolean;
    comment?: string | null;
    feedback?: string | null;
  },
): Stripe.Subscription {
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
    throw invalidRequest(`No such subscription: '${sub.id}'`, undefined, 'resource_missing');
  }
  const customerId = customerIdOf(sub);
  const now = nowFor(account, customerId);
  if (options.prorate && sub.status !== 'trialing') {
    const plan = planProrations(
      account,
      sub,
      specsOf(sub).map((s) => ({ ...s, quantity: 0 })),
      Math.min(now, periodOf(sub).end),
    );
    addPendingProrations(account, sub, plan.lines, now);
  }
  sub.status = 'canceled';
  sub.canceled_at ??= now;
  sub.ended_at = now;
  sub.cancel_at_period_end = false;
  const details = sub.cancellation_details ?? {
    comment: null,
    feedback: null,
    feedback_option: null,
    reason: null,
  };
  details.reason = options.reason;
  if (options.comment !== undefined) details.comment = options.comment;
  if (options.feedback !== undefined) details.feedback = options.feedback;
  sub.cancellation_details = details;
  sub.pending_update = null;
  emitEvent(account, { type: 'customer.subscription.deleted', object: sub });
  if (options.invoiceNow) {
    const customer = getCustomer(account, customerId, 'customer');
    const hasPending = [...account.invoiceitems.values()].some((i) => isPendingItemOf(i, sub));
    if (hasPending) {
      const invoice = draftUpdateInvoice(account, sub, customer, now, []);
      emitEvent(account, { type: 'invoice.created', object: invoice });
      sub.latest_invoice = invoice.id;
      finalizeInvoice(account, invoice);
      if (invoice.status === 'open') attemptPayment(account, invoice, { offSession: true, automatic: false });
    }
  }
  return sub;
}

/** `POST /v1/subscriptions/:id/pause`, and the `pause` trial end behaviour. */
export function pauseSubscription(
  account: Account,
  sub: Stripe.Subscription,
  cause: 'pause_requested' | 'trial_end_without_payment_method',
): Stripe.Subscription {
  if (sub.status === 'paused') throw invalidRequest('This subscription is already paused.');
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired' || sub.status === 'incomplete') {
    throw invalidRequest(`Subscriptions in status ${sub.status} cannot be paused.`);
  }
  const before = snapshot(sub);
  const now = nowFor(account, customerIdOf(sub));
  sub.status = 'paused';
  sub.status_details = {
    paused: { subscription: { type: cause }, transitioned_at: now, type: 'subscription' },
  };
  emitUpdated(account, sub, before);
  emitEvent(account, { type: 'customer.subscription.paused', object: sub });
  return sub;
}

/** `POST /v1/subscriptions/:id/resume`: a new period starts now and is invoiced at once. */
export function resumeSubscription(
  account: Account,
  sub: Stripe.Subscription,
  params: FormParams,
): Stripe.Subscription {
  if (sub.status !== 'paused') {
    throw invalidRequest('Only paused subscriptions can be resumed.', undefined, 'subscription_not_paused');
  }
  const customerId = customerIdOf(sub);
  const customer = getCustomer(account, customerId, 'customer');
  const now = nowFor(account, customerId);
  const before = snapshot(sub);
  const anchorParam = optObject(params, 'billing_cycle_anchor');
  const anchorType =
    (anchorParam ? optNonEmpty(anchorParam, 'type') : optNonEmpty(params, 'billing_cycle_anchor')) ?? 'now';
  const recurrence = subscriptionRecurrence(sub);
  sub.status = 'active';
  delete sub.status_details;
  sub.trial_end = sub.trial_end !== null && sub.trial_end > now ? now : sub.trial_end;
  if (anchorType === 'now' || periodOf(sub).end <= now) {
    sub.billing_cycle_anchor = now;
    setPeriod(sub, now, boundary(now, recurrence, 1));
  }
  const { start, end } = periodOf(sub);
  const invoice = draftUpdateInvoice(
    account,
    sub,
    customer,
    now,
    anchorType === 'now' ? periodLines(account, sub, start, end, false) : [],
  );
  sub.latest_invoice = invoice.id;
  emitUpdated(account, sub, before);
  emitEvent(account, { type: 'customer.subscription.resumed', object: sub });
  emitEvent(account, { type: 'invoice.created', object: invoice });
  finalizeInvoice(account, invoice);
  if (invoice.status === 'open') attemptPayment(account, invoice, { offSession: true, automatic: true });
  return sub;
}

// ---------------------------------------------------------------------------------------------
// Clock-driven lifecycle

export function timelineView(account: Account, sub: Stripe.Subscription): SubscriptionTimelineView {
  return {
    id: sub.id,
    status: sub.status as SubscriptionStatus,
    created: sub.created,
    trialEnd: sub.trial_end,
    trialWillEndSent: internalOfSubscription(account, sub.id).trialWillEndSent === true,
    currentPeriodStart: periodOf(sub).start,
    currentPeriodEnd: periodOf(sub).end,
    upcomingSentFor: internalOfSubscription(account, sub.id).upcomingSentFor ?? null,
    cancelAt: sub.cancel_at,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    pauseCollectionResumesAt: sub.pause_collection?.resumes_at ?? null,
  };
}

export function trialWillEnd(account: Account, sub: Stripe.Subscription): void {
  internalOfSubscription(account, sub.id).trialWillEndSent = true;
  emitEvent(account, { type: 'customer.subscription.trial_will_end', object: sub });
}

/** `invoice.upcoming`: the preview of the renewal invoice, a week ahead. */
export function announceUpcoming(account: Account, sub: Stripe.Subscription): void {
  internalOfSubscription(account, sub.id).upcomingSentFor = periodOf(sub).end;
  const preview = previewSubscriptionInvoice(account, { subscription: sub.id });
  emitEvent(account, { type: 'invoice.upcoming', object: preview, customerId: customerIdOf(sub) });
}

/** Trial end: convert (invoice the first paid period), cancel, or pause. */
export function endTrial(account: Account, sub: Stripe.Subscription): void {
  if (sub.status !== 'trialing') return;
  const behavior = sub.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice';
  if (!hasPaymentMethod(account, sub) && behavior !== 'create_invoice') {
    if (behavior === 'cancel') {
      cancelNow(account, sub, { reason: null });
    } else {
      pauseSubscription(account, sub, 'trial_end_without_payment_method');
    }
    return;
  }
  const now = nowFor(account, customerIdOf(sub));
  const recurrence = subscriptionRecurrence(sub);
  const before = snapshot(sub);
  sub.status = 'active';
  sub.billing_cycle_anchor = now;
  setPeriod(sub, now, boundary(now, recurrence, 1));
  renewalInvoice(account, sub, before, now);
}

function renewalInvoice(
  account: Account,
  sub: Stripe.Subscription,
  before: Stripe.Subscription,
  previousPeriodStart: number,
): void {
  const customerId = customerIdOf(sub);
  const customer = getCustomer(account, customerId, 'customer');
  const now = nowFor(account, customerId);
  const { start, end } = periodOf(sub);
  const pause = sub.pause_collection?.behavior;
  const autoAdvance = sub.status !== 'unpaid' && pause !== 'keep_as_draft';
  const invoice = createDraftInvoice(account, {
    customer,
    currency: sub.currency,
    subscription: sub,
    billingReason: 'subscription_cycle',
    periodStart: Math.min(previousPeriodStart, now),
    periodEnd: now,
    lines: periodLines(account, sub, start, end, false),
    pendingItems: 'subscription',
    autoAdvance,
    finalizeAfterSeconds:
      sub.collection_method === 'charge_automatically' ? RENEWAL_FINALIZE_DELAY_SECONDS : 0,
    collectionMethod: sub.collection_method === 'send_invoice' ? 'send_invoice' : 'charge_automatically',
    daysUntilDue: sub.days_until_due,
    deferCreatedEvent: true,
  });
  sub.latest_invoice = invoice.id;
  emitUpdated(account, sub, before);
  emitEvent(account, { type: 'invoice.created', object: invoice });
  if (pause === 'void') {
    finalizeInvoice(account, invoice);
    if (invoice.status === 'open') voidInvoice(account, invoice);
  } else if (pause === 'mark_uncollectible') {
    finalizeInvoice(account, invoice);
    if (invoice.status === 'open') markUncollectible(account, invoice);
  }
}

/** The end of a billing period: renew, or end a subscription set to cancel at period end. */
export function periodEnd(account: Account, sub: Stripe.Subscription): void {
  if (sub.cancel_at_period_end) {
    cancelNow(account, sub, { reason: sub.cancellation_details?.reason ?? 'cancellation_requested' });
    return;
  }
  const recurrence = subscriptionRecurrence(sub);
  const { start, end } = periodOf(sub);
  const anchor = sub.billing_cycle_anchor;
  const k = indexOf(anchor, recurrence, end);
  const before = snapshot(sub);
  setPeriod(sub, end, boundary(anchor, recurrence, Math.max(k, 0) + 1));
  renewalInvoice(account, sub, before, start);
}

export function cancelAtReached(account: Account, sub: Stripe.Subscription): void {
  cancelNow(account, sub, { reason: sub.cancellation_details?.reason ?? 'cancellation_requested' });
}

export function expireIncomplete(account: Account, sub: Stripe.Subscription): void {
  if (sub.status !== 'incomplete') return;
  const now = nowFor(account, customerIdOf(sub));
  const before = snapshot(sub);
  sub.status = 'incomplete_expired';
  sub.ended_at = now;
  emitUpdated(account, sub, before);
  const invoiceId = idOf(sub.latest_invoice);
  const invoice = invoiceId ? account.invoices.get(invoiceId) : undefined;
  if (invoice && invoice.status === 'open') voidInvoice(account, invoice);
}

export function resumePauseCollection(account: Account, sub: Stripe.Subscription): void {
  const before = snapshot(sub);
  sub.pause_collection = null;
  emitUpdated(account, sub, before);
}

// ---------------------------------------------------------------------------------------------
// Preview (POST /v1/invoices/create_preview)

/**
 * Previews the invoice a subscription change produces. With `always_invoice` the preview is the
 * invoice the change creates now (the prorations); otherwise it is the next renewal invoice with
 * the pending prorations. The customer balance is applied as finalization would.
 */
export function previewSubscriptionInvoice(account: Account, params: FormParams): Stripe.Invoice {
  let subId = optNonEmpty(params, 'subscription');
  const customerParam = optNonEmpty(params, 'customer');
  if (!subId && customerParam) {
    const live = [...account.subscriptions.values()].find(
      (s) =>
        customerIdOf(s) === customerParam && s.status !== 'canceled' && s.status !== 'incomplete_expired',
    );
    subId = live?.id;
  }
  if (!subId) {
    throw invalidRequest(
      'No upcoming invoices for customer: ' + (customerParam ?? ''),
      undefined,
      'invoice_upcoming_none',
    );
  }
  const sub = getSubscription(account, subId, 'subscription');
  const customerId = customerIdOf(sub);
  const customer = getCustomer(account, customerId, 'customer');
  const now = nowFor(account, customerId);
  const details = optObject(params, 'subscription_details') ?? {};
  const behavior = prorationBehaviorParam(details, 'proration_behavior');
  const itemParams = optObjectArray(details, 'items', 'subscription_details[items]');
  const current = specsOf(sub);
  const next =
    itemParams && itemParams.length > 0
      ? applyItemParams(account, current, itemParams, 'subscription_details[items]')
      : current;
  checkCompatible(next, 'subscription_details[items]');
  const prorationDate = prorationDateParam(details, sub, now, 'subscription_details[proration_date]');
  const oldRecurrence = subscriptionRecurrence(sub);
  const newRecurrence = recurrenceOf(next[0]!.price);
  // An interval change is invoiced at once with the billing cycle restarted (as the update does it).
  const intervalChanged =
    sub.status !== 'trialing' &&
    (oldRecurrence.interval !== newRecurrence.interval ||
      oldRecurrence.intervalCount !== newRecurrence.intervalCount);
  const plan = intervalChanged
    ? { lines: intervalChangeLines(account, sub, next, prorationDate, now, behavior), prorationDate }
    : behavior === 'none'
      ? { lines: [], prorationDate }
      : planProrations(account, sub, next, prorationDate);

  const id = previewInvoiceId();
  const { end } = periodOf(sub);
  const recurrence = recurrenceOf(next[0]!.price);
  const nextEnd = boundary(
    sub.billing_cycle_anchor,
    recurrence,
    Math.max(0, indexOf(sub.billing_cycle_anchor, recurrence, end)) + 1,
  );
  const immediate = behavior === 'always_invoice' || intervalChanged;
  const invoice = buildInvoice({
    id,
    customer,
    currency: sub.currency,
    created: now,
    billingReason: immediate ? 'subscription_update' : 'upcoming',
    subscription: sub,
    periodStart: intervalChanged ? now : immediate ? prorationDate : periodOf(sub).start,
    periodEnd: intervalChanged ? now : immediate ? prorationDate : end,
    autoAdvance: false,
    collectionMethod: sub.collection_method === 'send_invoice' ? 'send_invoice' : 'charge_automatically',
    description: null,
    metadata: {},
    defaultPaymentMethod: null,
    testClock: idOf(sub.test_clock),
    dueDate: null,
  });
  invoice.parent!.subscription_details!.subscription_proration_date = prorationDate;
  const lineInputs: Parameters<typeof buildLineItem>[0][] = [];
  for (const item of account.invoiceitems.values()) {
    if (!isPendingItemOf(item, sub)) continue;
    const priceId = item.pricing?.price_details?.price;
    lineInputs.push({
      invoice: id,
      currency: item.currency,
      amount: item.amount,
      description: item.description ?? '',
      periodStart: item.period.start,
      periodEnd: item.period.end,
      price: typeof priceId === 'string' ? (account.prices.get(priceId) ?? null) : null,
      quantity: item.quantity,
      subscription: sub.id,
      subscriptionItem: item.parent?.subscription_details?.subscription_item ?? null,
      invoiceItem: item.id,
      proration: item.proration,
      metadata: item.metadata ?? {},
    });
  }
  for (const line of plan.lines)
    lineInputs.push({
      ...line,
      invoice: id,
      currency: sub.currency,
      subscriptionItem: line.subscriptionItem ?? '',
    });
  if (!immediate) {
    for (const s of next) {
      const qty = s.quantity;
      const unit = s.price.unit_amount ?? 0;
      lineInputs.push({
        invoice: id,
        currency: sub.currency,
        amount: unit * qty,
        description: `${qty} × ${productName(account, s.price)} (at ${money(unit, s.price.currency)} / ${intervalText(s.price)})`,
        periodStart: end,
        periodEnd: nextEnd,
        price: s.price,
        quantity: qty,
        subscription: sub.id,
        subscriptionItem: s.id ?? '',
        invoiceItem: null,
        proration: false,
        metadata: s.metadata,
      });
    }
  }
  invoice.lines.data = lineInputs.map((l) => buildLineItem(l));
  recomputeDraftTotals(invoice);
  const amounts = invoiceAmounts(
    invoice.lines.data.map((l) => l.amount),
    customer.balance,
  );
  invoice.starting_balance = amounts.startingBalance;
  invoice.ending_balance = amounts.endingBalance;
  invoice.amount_due = amounts.amountDue;
  invoice.amount_remaining = amounts.amountDue;
  invoice.next_payment_attempt = immediate ? null : end + RENEWAL_FINALIZE_DELAY_SECONDS;
  delete invoice.payments;
  return invoice;
}
