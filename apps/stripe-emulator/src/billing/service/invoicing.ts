/**
 * Invoices on the emulator's state: building drafts from subscription items and pending invoice items,
 * finalizing (customer balance applied), collecting payment with retries, void and uncollectible.
 * Subscription consequences of a payment outcome are delegated to hooks the subscription side installs.
 */
import type Stripe from 'stripe';
import { emitEvent } from '../../core/events.js';
import { newId, randomString } from '../../core/ids.js';
import type { Account } from '../../core/state.js';
import { nowFor } from '../../core/time.js';
import { StripeApiError, invalidRequest, resourceMissing } from '../../http/errors.js';
import { adjustCustomerBalance, getCustomer } from '../../resources/customers.js';
import { afterFailedAttempt } from '../dunning.js';
import { type InvoiceAction, invoiceAmounts, transitionInvoice } from '../invoice-status.js';
import { RENEWAL_FINALIZE_DELAY_SECONDS } from '../timeline.js';
import { type ChargeResult, declineError, payments } from './payments.js';
import { baseUrlFor, retryPolicyFor } from './runtime.js';
import { buildInvoice, buildInvoicePayment, buildLineItem, type LineInput } from './shapes.js';

/** Emulator-only facts about an invoice. */
export interface InvoiceInternal {
  /** Clock time of the first failed automatic attempt (dunning offsets count from here). */
  firstFailureAt?: number;
}

export interface InvoiceHooks {
  onPaid(account: Account, invoice: Stripe.Invoice): void;
  onPaymentFailed(account: Account, invoice: Stripe.Invoice, outcome: FailedOutcome): void;
  onVoided(account: Account, invoice: Stripe.Invoice): void;
}

export interface FailedOutcome {
  requiresAction: boolean;
  /** Null while automatic retries remain; the final subscription status once dunning is over. */
  dunningFinal: 'past_due' | 'unpaid' | 'canceled' | null;
}

const hooks: InvoiceHooks[] = [];

export function addInvoiceHooks(h: InvoiceHooks): void {
  hooks.push(h);
}

export function getInvoice(account: Account, id: string, param = 'id'): Stripe.Invoice {
  const invoice = account.invoices.get(id);
  if (!invoice) throw resourceMissing('invoice', id, param);
  return invoice;
}

export function internalOfInvoice(account: Account, id: string): InvoiceInternal {
  return account.internalOf(id);
}

export function subscriptionIdOf(invoice: Stripe.Invoice): string | null {
  const s = invoice.parent?.subscription_details?.subscription;
  if (!s) return null;
  return typeof s === 'string' ? s : s.id;
}

function customerIdOf(invoice: Stripe.Invoice): string {
  const c = invoice.customer;
  if (!c) throw invalidRequest('Invoice has no customer');
  return typeof c === 'string' ? c : c.id;
}

function applyTransition(invoice: Stripe.Invoice, action: InvoiceAction): void {
  const status = (invoice.status ?? 'draft') as Parameters<typeof transitionInvoice>[0];
  const t = transitionInvoice(status, action);
  if (!t.ok) throw invalidRequest(t.reason, undefined, 'invoice_not_editable');
  if (t.status !== 'deleted') invoice.status = t.status;
}

/** Recomputes totals from the lines (drafts: before the customer balance is applied). */
export function recomputeDraftTotals(invoice: Stripe.Invoice): void {
  const subtotal = invoice.lines.data.reduce((sum, l) => sum + l.amount, 0);
  invoice.subtotal = subtotal;
  invoice.subtotal_excluding_tax = subtotal;
  invoice.total = subtotal;
  invoice.total_excluding_tax = subtotal;
  invoice.amount_due = Math.max(0, subtotal);
  invoice.amount_remaining = invoice.amount_due - invoice.amount_paid;
}

export interface DraftInput {
  /** A pre-allocated id (error_if_incomplete charges before the invoice exists). */
  id?: string | undefined;
  customer: Stripe.Customer;
  currency: string;
  subscription: Stripe.Subscription | null;
  billingReason: Stripe.Invoice.BillingReason;
  periodStart: number;
  periodEnd: number;
  lines: Omit<LineInput, 'invoice' | 'currency'>[];
  /** Sweep the customer's pending invoice items: those of this subscription, or all the customer's. */
  pendingItems: 'subscription' | 'customer' | 'none';
  autoAdvance: boolean;
  /** For renewals: finalize automatically this long after creation. */
  finalizeAfterSeconds: number | null;
  description?: string | null;
  metadata?: Stripe.Metadata;
  defaultPaymentMethod?: string | null;
  collectionMethod?: 'charge_automatically' | 'send_invoice';
  daysUntilDue?: number | null;
  /** The caller emits `invoice.created` itself (after the subscription's own update event). */
  deferCreatedEvent?: boolean;
}

/** Creates a draft invoice, emits `invoice.created`. */
export function createDraftInvoice(account: Account, input: DraftInput): Stripe.Invoice {
  const now = nowFor(account, input.customer.id);
  const id = input.id ?? newId('in');
  const collectionMethod = input.collectionMethod ?? 'charge_automatically';
  const invoice = buildInvoice({
    id,
    customer: input.customer,
    currency: input.currency,
    created: now,
    billingReason: input.billingReason,
    subscription: input.subscription,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    autoAdvance: input.autoAdvance,
    collectionMethod,
    description: input.description ?? null,
    metadata: input.metadata ?? {},
    defaultPaymentMethod: input.defaultPaymentMethod ?? null,
    testClock:
      typeof input.customer.test_clock === 'string'
        ? input.customer.test_clock
        : (input.customer.test_clock?.id ?? null),
    dueDate: collectionMethod === 'send_invoice' ? now + (input.daysUntilDue ?? 30) * 86_400 : null,
  });
  // Pending invoice items (prorations, one-off items) come first, as on Stripe's invoices.
  if (input.pendingItems !== 'none') {
    for (const item of account.invoiceitems.values()) {
      if (item.invoice !== null || item.customer !== input.customer.id) continue;
      if (item.currency !== input.currency) continue;
      const itemSub = item.parent?.subscription_details?.subscription ?? null;
      if (input.pendingItems === 'subscription' && input.subscription && itemSub !== input.subscription.id)
        continue;
      item.invoice = id;
      invoice.lines.data.push(lineFromInvoiceItem(account, item, id));
    }
  }
  for (const line of input.lines) {
    invoice.lines.data.push(buildLineItem({ ...line, invoice: id, currency: input.currency }));
  }
  if (input.finalizeAfterSeconds !== null && input.autoAdvance) {
    invoice.automatically_finalizes_at = now + input.finalizeAfterSeconds;
  }
  recomputeDraftTotals(invoice);
  account.invoices.set(id, invoice);
  if (!input.deferCreatedEvent) emitEvent(account, { type: 'invoice.created', object: invoice });
  return invoice;
}

export function lineFromInvoiceItem(
  account: Account,
  item: Stripe.InvoiceItem,
  invoiceId: string,
): Stripe.InvoiceLineItem {
  const priceId = item.pricing?.price_details?.price;
  const price = typeof priceId === 'string' ? (account.prices.get(priceId) ?? null) : (priceId ?? null);
  const details = item.parent?.subscription_details;
  return buildLineItem({
    invoice: invoiceId,
    currency: item.currency,
    amount: item.amount,
    description: item.description ?? '',
    periodStart: item.period.start,
    periodEnd: item.period.end,
    price,
    quantity: item.quantity,
    subscription: details?.subscription ?? null,
    subscriptionItem: details?.subscription_item ?? null,
    invoiceItem: item.id,
    proration: item.proration,
    metadata: item.metadata ?? {},
  });
}

/** Adds a pending item to an existing draft (`invoiceitems.create` with `invoice`). */
export function addItemToDraft(account: Account, invoice: Stripe.Invoice, item: Stripe.InvoiceItem): void {
  if (invoice.status !== 'draft') {
    throw invalidRequest(
      'You can only add invoice items to draft invoices.',
      'invoice',
      'invoice_not_editable',
    );
  }
  invoice.lines.data.push(lineFromInvoiceItem(account, item, invoice.id));
  recomputeDraftTotals(invoice);
}

/**
 * Finalizes a draft: applies the customer's balance, numbers it, gives it hosted URLs, emits
 * `invoice.finalized`; a $0 invoice is paid on the spot.
 */
export function finalizeInvoice(account: Account, invoice: Stripe.Invoice): Stripe.Invoice {
  applyTransition(invoice, 'finalize');
  const customerId = customerIdOf(invoice);
  const customer = getCustomer(account, customerId, 'customer');
  const now = nowFor(account, customerId);
  const lineAmounts = invoice.lines.data.map((l) => l.amount);
  const amounts = invoiceAmounts(lineAmounts, customer.balance);
  invoice.subtotal = amounts.subtotal;
  invoice.subtotal_excluding_tax = amounts.subtotal;
  invoice.total = amounts.total;
  invoice.total_excluding_tax = amounts.total;
  invoice.starting_balance = amounts.startingBalance;
  invoice.ending_balance = amounts.endingBalance;
  invoice.amount_due = amounts.amountDue;
  invoice.amount_remaining = amounts.amountDue - invoice.amount_paid;
  invoice.number = `${customerNumberPrefix(customerId)}-${String(countInvoicesOf(account, customerId)).padStart(4, '0')}`;
  const base = baseUrlFor(account);
  invoice.hosted_invoice_url = `${base}/_emulator/invoices/${invoice.id}`;
  invoice.invoice_pdf = `${base}/_emulator/invoices/${invoice.id}/pdf`;
  invoice.status_transitions.finalized_at = now;
  invoice.effective_at = now;
  invoice.automatically_finalizes_at = null;
  if (amounts.endingBalance !== amounts.startingBalance) {
    adjustCustomerBalance(account, customerId, {
      amount: amounts.endingBalance - amounts.startingBalance,
      currency: invoice.currency,
      type: 'applied_to_invoice',
      invoice: invoice.id,
    });
  }
  emitEvent(account, { type: 'invoice.finalized', object: invoice });
  if (invoice.amount_due === 0) markPaid(account, invoice, now);
  return invoice;
}

function customerNumberPrefix(customerId: string): string {
  let h = 0;
  for (let i = 0; i < customerId.length; i++) h = (Math.imul(h, 31) + customerId.charCodeAt(i)) >>> 0;
  return h.toString(16).toUpperCase().padStart(8, '0').slice(0, 8);
}

function countInvoicesOf(account: Account, customerId: string): number {
  let n = 0;
  for (const inv of account.invoices.values()) if (inv.customer === customerId && inv.number !== null) n++;
  return n + 1;
}

function markPaid(account: Account, invoice: Stripe.Invoice, now: number): void {
  applyTransition(invoice, 'pay');
  invoice.amount_paid += invoice.amount_remaining;
  invoice.amount_remaining = 0;
  invoice.status_transitions.paid_at = now;
  invoice.next_payment_attempt = null;
  emitEvent(account, { type: 'invoice.paid', object: invoice });
  emitEvent(account, { type: 'invoice.payment_succeeded', object: invoice });
  for (const h of hooks) h.onPaid(account, invoice);
}

/** The payment method an invoice is charged with when none is given. */
export function defaultPaymentMethodFor(account: Account, invoice: Stripe.Invoice): string | null {
  const own = invoice.default_payment_method;
  if (own) return typeof own === 'string' ? own : own.id;
  const subId = subscriptionIdOf(invoice);
  const sub = subId ? account.subscriptions.get(subId) : undefined;
  const subPm = sub?.default_payment_method;
  if (subPm) return typeof subPm === 'string' ? subPm : subPm.id;
  const customer = account.customers.get(customerIdOf(invoice));
  const custPm = customer?.invoice_settings.default_payment_method;
  if (custPm) return typeof custPm === 'string' ? custPm : custPm.id;
  return null;
}

export interface AttemptOptions {
  paymentMethod?: string;
  offSession: boolean;
  /** True for automatic (clock / subscription) attempts: failures schedule retries. */
  automatic: boolean;
  /** A charge already made for this invoice (error_if_incomplete charges first). */
  prepaid?: ChargeResult;
}

export type AttemptResult = { ok: true } | { ok: false; requiresAction: boolean; error: StripeApiError };

/** One payment attempt on an open invoice; emits the invoice and payment events. */
export function attemptPayment(
  account: Account,
  invoice: Stripe.Invoice,
  options: AttemptOptions,
): AttemptResult {
  if (invoice.status !== 'open' && invoice.status !== 'uncollectible') {
    throw invalidRequest(transitionInvoiceReason(invoice), undefined, 'invoice_not_editable');
  }
  const customerId = customerIdOf(invoice);
  const now = nowFor(account, customerId);
  if (invoice.amount_remaining === 0) {
    markPaid(account, invoice, now);
    return { ok: true };
  }
  const pmId = options.paymentMethod ?? defaultPaymentMethodFor(account, invoice);
  invoice.attempt_count += 1;
  invoice.attempted = true;
  if (!pmId) {
    const error = invalidRequest(
      'This customer has no attached payment source or default payment method. Please consider adding a default payment method.',
      undefined,
      'invoice_no_payment_method_types',
    );
    return failAttempt(account, invoice, now, options, false, error);
  }
  const result =
    options.prepaid ??
    payments().charge(account, {
      amount: invoice.amount_remaining,
      currency: invoice.currency,
      customer: customerId,
      paymentMethod: pmId,
      offSession: options.offSession,
      description: describePayment(invoice),
      metadata: {},
      invoiceId: invoice.id,
    });
  const payments_ = invoice.payments ?? {
    object: 'list',
    data: [],
    has_more: false,
    url: `/v1/invoice_payments?invoice=${invoice.id}`,
  };
  invoice.payments = payments_;
  for (const p of payments_.data) {
    if (p.status === 'open') {
      p.status = 'canceled';
      p.is_default = false;
      p.status_transitions.canceled_at = now;
    }
  }
  const record = buildInvoicePayment(invoice, result.paymentIntent.id, invoice.amount_remaining, now);
  payments_.data.unshift(record);
  if (result.outcome === 'succeeded') {
    record.status = 'paid';
    record.amount_paid = invoice.amount_remaining;
    record.status_transitions.paid_at = now;
    markPaid(account, invoice, now);
    return { ok: true };
  }
  const requiresAction = result.outcome === 'requires_action';
  const error = requiresAction
    ? new StripeApiError({
        status: 402,
        type: 'card_error',
        code: 'invoice_payment_intent_requires_action',
        message: 'This payment requires additional user action before it can be completed successfully.',
        extra: { payment_intent: result.paymentIntent },
      })
    : declineError(result);
  return failAttempt(account, invoice, now, options, requiresAction, error);
}

function failAttempt(
  account: Account,
  invoice: Stripe.Invoice,
  now: number,
  options: AttemptOptions,
  requiresAction: boolean,
  error: StripeApiError,
): AttemptResult {
  let dunningFinal: FailedOutcome['dunningFinal'] = null;
  const isFirstInvoice = invoice.billing_reason === 'subscription_create';
  if (options.automatic && !isFirstInvoice && invoice.collection_method === 'charge_automatically') {
    const internal = internalOfInvoice(account, invoice.id);
    internal.firstFailureAt ??= now;
    const outcome = afterFailedAttempt(
      retryPolicyFor(account),
      internal.firstFailureAt,
      invoice.attempt_count,
    );
    if (outcome.kind === 'retry') {
      invoice.next_payment_attempt = outcome.nextAttemptAt;
    } else {
      invoice.next_payment_attempt = null;
      dunningFinal = outcome.finalStatus;
    }
  } else {
    invoice.next_payment_attempt = null;
  }
  emitEvent(account, { type: 'invoice.payment_failed', object: invoice });
  if (requiresAction) emitEvent(account, { type: 'invoice.payment_action_required', object: invoice });
  for (const h of hooks) h.onPaymentFailed(account, invoice, { requiresAction, dunningFinal });
  return { ok: false, requiresAction, error };
}

const PAYMENT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  subscription_create: 'Subscription creation',
  subscription_cycle: 'Subscription cycle',
  subscription_update: 'Subscription update',
};

function describePayment(invoice: Stripe.Invoice): string {
  return PAYMENT_DESCRIPTIONS[invoice.billing_reason ?? ''] ?? 'Payment for Invoice';
}

function transitionInvoiceReason(invoice: Stripe.Invoice): string {
  const status = (invoice.status ?? 'draft') as Parameters<typeof transitionInvoice>[0];
  const t = transitionInvoice(status, 'pay');
  return t.ok ? 'Invoice cannot be paid.' : t.reason;
}

/**
 * `payment_behavior=default_incomplete`: the open invoice's PaymentIntent, created and not confirmed;
 * the client confirms it with the invoice's `confirmation_secret`. Null when nothing is due.
 */
export function openInvoicePayment(account: Account, invoice: Stripe.Invoice): Stripe.PaymentIntent | null {
  if (invoice.status !== 'open' || invoice.amount_remaining === 0) return null;
  const customerId = customerIdOf(invoice);
  const now = nowFor(account, customerId);
  const pi = payments().openForInvoice(account, {
    amount: invoice.amount_remaining,
    currency: invoice.currency,
    customer: customerId,
    paymentMethod: defaultPaymentMethodFor(account, invoice),
    description: describePayment(invoice),
    invoiceId: invoice.id,
  });
  const list = invoice.payments ?? {
    object: 'list',
    data: [],
    has_more: false,
    url: `/v1/invoice_payments?invoice=${invoice.id}`,
  };
  invoice.payments = list;
  list.data.unshift(buildInvoicePayment(invoice, pi.id, invoice.amount_remaining, now));
  return pi;
}

/**
 * A PaymentIntent of an open invoice succeeded outside a billing attempt (the client confirmed it, or
 * 3-D Secure was completed): its invoice payment is paid, and the invoice with it. Anything else
 * (not an invoice's, already settled) is left alone.
 */
export function settleInvoicePaymentIntent(account: Account, paymentIntentId: string): void {
  const invoiceId = payments().invoiceOf(account, paymentIntentId);
  const invoice = invoiceId ? account.invoices.get(invoiceId) : undefined;
  const pi = account.payment_intents.get(paymentIntentId);
  if (!invoice || !pi || invoice.status !== 'open') return;
  const record = invoice.payments?.data.find((p) => p.payment.payment_intent === paymentIntentId);
  if (!record || record.status !== 'open') return;
  const now = nowFor(account, customerIdOf(invoice));
  record.status = 'paid';
  record.amount_paid = pi.amount_received;
  record.status_transitions.paid_at = now;
  markPaid(account, invoice, now);
}

/**
 * A PaymentIntent of an open invoice failed outside a billing attempt (the client's confirmation was
 * declined): the attempt is counted and `invoice.payment_failed` emitted, as at Stripe. The invoice stays
 * open and its PaymentIntent may be confirmed again with another method; no retry is scheduled.
 */
export function recordFailedInvoicePaymentIntent(account: Account, paymentIntentId: string): void {
  const invoiceId = payments().invoiceOf(account, paymentIntentId);
  const invoice = invoiceId ? account.invoices.get(invoiceId) : undefined;
  if (!invoice || invoice.status !== 'open') return;
  const record = invoice.payments?.data.find((p) => p.payment.payment_intent === paymentIntentId);
  if (!record || record.status !== 'open') return;
  invoice.attempt_count += 1;
  invoice.attempted = true;
  emitEvent(account, { type: 'invoice.payment_failed', object: invoice });
}

/** The `confirmation_secret` of an invoice (includable): its current PaymentIntent's client secret. */
export function confirmationSecretOf(
  account: Account,
  invoice: Stripe.Invoice,
): Stripe.Invoice.ConfirmationSecret | null {
  const record = invoice.payments?.data.find((p) => p.is_default) ?? invoice.payments?.data[0];
  const piId = record?.payment.payment_intent;
  const pi = typeof piId === 'string' ? account.payment_intents.get(piId) : piId;
  return pi?.client_secret ? { client_secret: pi.client_secret, type: 'payment_intent' } : null;
}

/** `POST /v1/invoices/:id/pay`. A decline answers 402 as Stripe does. */
export function payInvoice(
  account: Account,
  invoice: Stripe.Invoice,
  options: { paymentMethod?: string; paidOutOfBand?: boolean; offSession?: boolean },
): Stripe.Invoice {
  if (invoice.status === 'draft') finalizeInvoice(account, invoice);
  if (invoice.status === 'paid') {
    if (invoice.amount_due === 0) return invoice;
    throw invalidRequest('Invoice is already paid', undefined, 'invoice_not_editable');
  }
  const now = nowFor(account, customerIdOf(invoice));
  if (options.paidOutOfBand) {
    markPaid(account, invoice, now);
    return invoice;
  }
  let pm = options.paymentMethod;
  if (pm) pm = payments().resolvePaymentMethod(account, pm, customerIdOf(invoice), 'payment_method').id;
  const result = attemptPayment(account, invoice, {
    paymentMethod: pm,
    offSession: options.offSession ?? false,
    automatic: false,
  });
  if (!result.ok) throw result.error;
  return invoice;
}

export function voidInvoice(account: Account, invoice: Stripe.Invoice): Stripe.Invoice {
  applyTransition(invoice, 'void');
  const now = nowFor(account, customerIdOf(invoice));
  invoice.status_transitions.voided_at = now;
  invoice.next_payment_attempt = null;
  invoice.amount_remaining = 0;
  // Credit consumed by the invoice goes back to the customer.
  const applied = (invoice.ending_balance ?? invoice.starting_balance) - invoice.starting_balance;
  if (applied !== 0) {
    adjustCustomerBalance(account, customerIdOf(invoice), {
      amount: -applied,
      currency: invoice.currency,
      type: 'unapplied_from_invoice',
      invoice: invoice.id,
    });
  }
  for (const p of invoice.payments?.data ?? []) {
    if (p.status === 'open') {
      p.status = 'canceled';
      p.status_transitions.canceled_at = now;
    }
  }
  emitEvent(account, { type: 'invoice.voided', object: invoice });
  for (const h of hooks) h.onVoided(account, invoice);
  return invoice;
}

export function markUncollectible(account: Account, invoice: Stripe.Invoice): Stripe.Invoice {
  applyTransition(invoice, 'mark_uncollectible');
  invoice.status_transitions.marked_uncollectible_at = nowFor(account, customerIdOf(invoice));
  invoice.next_payment_attempt = null;
  emitEvent(account, { type: 'invoice.marked_uncollectible', object: invoice });
  return invoice;
}

export function deleteDraft(account: Account, invoice: Stripe.Invoice): Stripe.DeletedInvoice {
  applyTransition({ ...invoice }, 'delete');
  for (const item of account.invoiceitems.values()) if (item.invoice === invoice.id) item.invoice = null;
  account.invoices.delete(invoice.id);
  account.deleted.set(invoice.id, 'invoice');
  emitEvent(account, { type: 'invoice.deleted', object: invoice });
  return { id: invoice.id, object: 'invoice', deleted: true };
}

/** Clock action: finalize a renewal draft and collect it. */
export function autoFinalize(account: Account, invoice: Stripe.Invoice): void {
  if (invoice.status !== 'draft') return;
  finalizeInvoice(account, invoice);
  if (
    invoice.status === 'open' &&
    invoice.collection_method === 'charge_automatically' &&
    invoice.auto_advance !== false
  ) {
    attemptPayment(account, invoice, { offSession: true, automatic: true });
  }
}

/** Clock action: a scheduled retry. */
export function autoRetry(account: Account, invoice: Stripe.Invoice): void {
  if (invoice.status !== 'open') {
    invoice.next_payment_attempt = null;
    return;
  }
  attemptPayment(account, invoice, { offSession: true, automatic: true });
}

export { RENEWAL_FINALIZE_DELAY_SECONDS };

/** A placeholder id for previews (`upcoming_in_...`), as Stripe returns for create_preview. */
export function previewInvoiceId(): string {
  return `upcoming_in_${randomString(24)}`;
}
