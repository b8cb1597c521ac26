import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { diffAttributes, emitEvent } from '../core/events.js';
import { newId } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { nowFor, nowForClock } from '../core/time.js';
import { invalidRequest, resourceMissing } from '../http/errors.js';
import { registerExpander } from '../http/expand.js';
import {
  type FormParams,
  applyMetadata,
  optInt,
  optNonEmpty,
  optObject,
  optString,
  optStringArray,
  reqInt,
  reqString,
} from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';

/** Hooks the payment-method module installs so customers can attach / validate methods. */
export interface CustomerPaymentHooks {
  /** Attaches a method (id or shortcut) to the customer; returns its id. Throws Stripe errors. */
  attach(account: Account, customerId: string, idOrShortcut: string): string;
}

let paymentHooks: CustomerPaymentHooks | undefined;

export function setCustomerPaymentHooks(hooks: CustomerPaymentHooks): void {
  paymentHooks = hooks;
}

/** The customer, or a 404 `resource_missing` naming `param`. */
export function getCustomer(account: Account, id: string, param = 'id'): Stripe.Customer {
  const customer = account.customers.get(id);
  if (!customer) throw resourceMissing('customer', id, param);
  return customer;
}

function deletedCustomer(id: string): Stripe.DeletedCustomer {
  return { id, object: 'customer', deleted: true };
}

function nullableString(params: FormParams, name: string): string | null | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  return v === '' ? null : v;
}

function addressParam(value: FormParams | undefined): Stripe.Address | null {
  if (!value) return null;
  const s = (k: string): string | null => {
    const v = value[k];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  return {
    city: s('city'),
    country: s('country'),
    line1: s('line1'),
    line2: s('line2'),
    postal_code: s('postal_code'),
    state: s('state'),
  };
}

function applyCommonFields(
  account: Account,
  customer: Stripe.Customer,
  body: FormParams,
  isCreate: boolean,
): void {
  const email = nullableString(body, 'email');
  if (email !== undefined) customer.email = email;
  const name = nullableString(body, 'name');
  if (name !== undefined) customer.name = name;
  const description = nullableString(body, 'description');
  if (description !== undefined) customer.description = description;
  const phone = nullableString(body, 'phone');
  if (phone !== undefined) customer.phone = phone;
  if (body.address !== undefined) customer.address = addressParam(optObject(body, 'address'));
  if (body.shipping !== undefined) {
    const shipping = optObject(body, 'shipping');
    customer.shipping = shipping
      ? {
          address: addressParam(optObject(shipping, 'address', 'shipping[address]')) ?? undefined,
          name: optNonEmpty(shipping, 'name', 'shipping[name]') ?? '',
          phone: optNonEmpty(shipping, 'phone', 'shipping[phone]') ?? null,
        }
      : null;
  }
  const balance = optInt(body, 'balance');
  if (balance !== undefined) customer.balance = balance;
  const locales = optStringArray(body, 'preferred_locales');
  if (locales !== undefined) customer.preferred_locales = locales;
  const invoicePrefix = optNonEmpty(body, 'invoice_prefix');
  if (invoicePrefix !== undefined) customer.invoice_prefix = invoicePrefix;
  const taxExempt = nullableString(body, 'tax_exempt');
  if (taxExempt !== undefined) customer.tax_exempt = taxExempt ?? 'none';
  customer.metadata = applyMetadata(customer.metadata, body);

  const paymentMethod = optNonEmpty(body, 'payment_method');
  let attached: string | null = null;
  if (isCreate && paymentMethod) {
    if (!paymentHooks) throw invalidRequest('Payment methods are not available.', 'payment_method');
    // Stripe attaches it but does not make it the default (`invoice_settings.default_payment_method`).
    attached = paymentHooks.attach(account, customer.id, paymentMethod);
  }
  const invoiceSettings = optObject(body, 'invoice_settings');
  if (invoiceSettings) {
    const next = { ...customer.invoice_settings };
    const dpm = optString(
      invoiceSettings,
      'default_payment_method',
      'invoice_settings[default_payment_method]',
    );
    if (dpm === '') next.default_payment_method = null;
    else if (dpm !== undefined && attached !== null && dpm === paymentMethod) {
      // `payment_method=pm_card_visa` with `invoice_settings[default_payment_method]=pm_card_visa`: the
      // shortcut names the method this request attached (each shortcut use otherwise makes a new one).
      next.default_payment_method = attached;
    } else if (dpm !== undefined) {
      const pm = account.payment_methods.get(dpm);
      const attachedTo = pm
        ? typeof pm.customer === 'string'
          ? pm.customer
          : (pm.customer?.id ?? null)
        : null;
      if (!pm || attachedTo !== customer.id) {
        if (paymentHooks && !pm && /^(pm_card_|tok_)/.test(dpm)) {
          throw invalidRequest(
            `No such PaymentMethod: '${dpm}'; It's possible this PaymentMethod exists on one of your connected accounts, in which case you should retry this request on that connected account.`,
            'invoice_settings[default_payment_method]',
            'resource_missing',
          );
        }
        if (!pm) throw resourceMissing('PaymentMethod', dpm, 'invoice_settings[default_payment_method]');
        throw invalidRequest(
          `The customer does not have a payment method with the ID ${dpm}. The payment method must be attached to the customer.`,
          'invoice_settings[default_payment_method]',
        );
      }
      next.default_payment_method = dpm;
    }
    const footer = optString(invoiceSettings, 'footer', 'invoice_settings[footer]');
    if (footer !== undefined) next.footer = footer === '' ? null : footer;
    customer.invoice_settings = next;
  }
}

/** Creates a customer (also used by checkout when it must create one). */
export function createCustomer(account: Account, body: FormParams): Stripe.Customer {
  const testClock = optNonEmpty(body, 'test_clock');
  if (testClock && !account.test_clocks.has(testClock))
    throw resourceMissing('test_clock', testClock, 'test_clock');
  const id = newId('cus');
  const customer: Stripe.Customer = {
    id,
    object: 'customer',
    address: null,
    balance: 0,
    created: nowForClock(account, testClock),
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: id.slice(4, 12).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: testClock ?? null,
  };
  account.customers.set(id, customer);
  try {
    applyCommonFields(account, customer, body, true);
  } catch (err) {
    account.customers.delete(id);
    throw err;
  }
  emitEvent(account, { type: 'customer.created', object: customer });
  return customer;
}

/** Updates a customer with Stripe semantics and emits `customer.updated` with `previous_attributes`. */
export function updateCustomer(account: Account, id: string, body: FormParams): Stripe.Customer {
  const customer = getCustomer(account, id);
  const before = structuredClone(customer);
  applyCommonFields(account, customer, body, false);
  const previous = diffAttributes(before, customer);
  if (previous)
    emitEvent(account, { type: 'customer.updated', object: customer, previousAttributes: previous });
  return customer;
}

/**
 * Changes a customer's credit balance (negative = credit) and records a balance transaction.
 * BILLING uses it to apply credit to invoices (`type: 'applied_to_invoice'`).
 */
export function adjustCustomerBalance(
  account: Account,
  customerId: string,
  input: {
    amount: number;
    currency: string;
    type: Stripe.CustomerBalanceTransaction.Type;
    description?: string | null;
    invoice?: string | null;
    metadata?: Record<string, string> | null;
  },
): Stripe.CustomerBalanceTransaction {
  const customer = getCustomer(account, customerId, 'customer');
  const before = structuredClone(customer);
  customer.balance += input.amount;
  if (!customer.currency) customer.currency = input.currency;
  const txn: Stripe.CustomerBalanceTransaction = {
    id: newId('cbtxn'),
    object: 'customer_balance_transaction',
    amount: input.amount,
    checkout_session: null,
    created: nowFor(account, customerId),
    credit_note: null,
    currency: input.currency,
    customer: customerId,
    customer_account: null,
    description: input.description ?? null,
    ending_balance: customer.balance,
    invoice: input.invoice ?? null,
    livemode: false,
    metadata: input.metadata ?? {},
    type: input.type,
  };
  account.customer_balance_transactions.set(txn.id, txn);
  const previous = diffAttributes(before, customer);
  if (previous)
    emitEvent(account, { type: 'customer.updated', object: customer, previousAttributes: previous });
  return txn;
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  registerExpander(
    '*',
    'customer',
    (account, id) => account.customers.get(id) ?? (account.deleted.has(id) ? deletedCustomer(id) : undefined),
  );
  registerExpander('customer', 'test_clock', (account, id) => account.test_clocks.get(id));
  registerExpander('customer', 'invoice_settings.default_payment_method', (account, id) =>
    account.payment_methods.get(id),
  );

  router.post('/v1/customers', (req) => createCustomer(req.account, req.body));

  router.get('/v1/customers/:id', (req) => {
    const id = req.params.id ?? '';
    if (req.account.deleted.get(id) === 'customer') return deletedCustomer(id);
    return getCustomer(req.account, id);
  });

  router.post('/v1/customers/:id', (req) => updateCustomer(req.account, req.params.id ?? '', req.body));

  router.delete('/v1/customers/:id', (req) => {
    const id = req.params.id ?? '';
    const customer = getCustomer(req.account, id);
    req.account.customers.delete(id);
    req.account.deleted.set(id, 'customer');
    emitEvent(req.account, { type: 'customer.deleted', object: customer });
    return deletedCustomer(id);
  });

  router.get('/v1/customers', (req) => {
    const email = optNonEmpty(req.query, 'email');
    const clock = optNonEmpty(req.query, 'test_clock');
    return paginate(req.account.customers.values(), req.query, '/v1/customers', {
      filter: (c) =>
        (email === undefined || c.email === email) && (clock === undefined || c.test_clock === clock),
    });
  });

  router.post('/v1/customers/:id/balance_transactions', (req) => {
    const id = req.params.id ?? '';
    getCustomer(req.account, id);
    const description = optNonEmpty(req.body, 'description');
    return adjustCustomerBalance(req.account, id, {
      amount: reqInt(req.body, 'amount'),
      currency: reqString(req.body, 'currency').toLowerCase(),
      type: 'adjustment',
      description: description ?? null,
      metadata: applyMetadata({}, req.body),
    });
  });

  router.get('/v1/customers/:id/balance_transactions', (req) => {
    const id = req.params.id ?? '';
    getCustomer(req.account, id);
    return paginate(
      req.account.customer_balance_transactions.values(),
      req.query,
      `/v1/customers/${id}/balance_transactions`,
      {
        filter: (t) => t.customer === id,
      },
    );
  });

  router.get('/v1/customers/:id/balance_transactions/:txn', (req) => {
    const txn = req.account.customer_balance_transactions.get(req.params.txn ?? '');
    if (!txn || txn.customer !== req.params.id)
      throw resourceMissing('customer_balance_transaction', req.params.txn ?? '');
    return txn;
  });
}
