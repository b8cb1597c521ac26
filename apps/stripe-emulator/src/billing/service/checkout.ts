/**
 * Checkout Sessions: creation from line items, and completion (from the hosted page or the test
 * endpoint) creating what Stripe creates: a customer when needed, the payment method, then a
 * PaymentIntent (payment), a subscription with its first invoice (subscription) or a SetupIntent (setup).
 */
import type Stripe from 'stripe';
import { emitEvent } from '../../core/events.js';
import { checkoutSessionId, newId } from '../../core/ids.js';
import type { Account } from '../../core/state.js';
import { nowFor, realNow } from '../../core/time.js';
import { StripeApiError, invalidRequest, missingParam, resourceMissing } from '../../http/errors.js';
import {
  type FormParams,
  applyMetadata,
  optInt,
  optNonEmpty,
  optObject,
  optObjectArray,
  optStringArray,
  reqString,
} from '../../http/form.js';
import { createCustomer, getCustomer } from '../../resources/customers.js';
import { declineError, payments } from './payments.js';
import { baseUrlFor } from './runtime.js';
import { createSubscription } from './subscriptions.js';

export interface CheckoutInternal {
  lineItems: { id: string; price: string; quantity: number }[];
  subscriptionData?: { trialPeriodDays?: number; metadata: Record<string, string>; description?: string };
  paymentIntentData?: { description?: string; metadata: Record<string, string> };
  /** Whether a new customer must be created at completion. */
  customerCreation: 'always' | 'if_required';
}

const DAY = 86_400;

export function internalOfSession(account: Account, id: string): CheckoutInternal {
  return account.internalOf(id) as unknown as CheckoutInternal;
}

export function getSession(account: Account, id: string, param = 'id'): Stripe.Checkout.Session {
  const session = account.checkout_sessions.get(id);
  if (!session) throw resourceMissing('checkout.session', id, param);
  return session;
}

function getPrice(account: Account, id: string, param: string): Stripe.Price {
  const price = account.prices.get(id);
  if (!price) throw resourceMissing('price', id, param);
  return price;
}

function sessionCustomer(session: Stripe.Checkout.Session): string | null {
  const c = session.customer;
  if (!c) return null;
  return typeof c === 'string' ? c : c.id;
}

/** `POST /v1/checkout/sessions`. */
export function createSession(account: Account, params: FormParams): Stripe.Checkout.Session {
  const mode = optNonEmpty(params, 'mode') ?? 'payment';
  if (mode !== 'payment' && mode !== 'subscription' && mode !== 'setup') {
    throw invalidRequest('Invalid mode: must be one of payment, setup, or subscription', 'mode');
  }
  const customerId = optNonEmpty(params, 'customer') ?? null;
  const customer = customerId ? getCustomer(account, customerId, 'customer') : null;
  const customerEmail = optNonEmpty(params, 'customer_email') ?? null;
  if (customer && customerEmail) {
    throw invalidRequest(
      'You may only specify one of these parameters: customer, customer_email.',
      'customer_email',
    );
  }
  const uiMode = optNonEmpty(params, 'ui_mode') ?? 'hosted_page';
  const successUrl = optNonEmpty(params, 'success_url') ?? null;
  const returnUrl = optNonEmpty(params, 'return_url');
  if (!successUrl && !returnUrl && (uiMode === 'hosted_page' || uiMode === 'hosted'))
    throw missingParam('success_url');

  const itemParams = optObjectArray(params, 'line_items') ?? [];
  if (mode !== 'setup' && itemParams.length === 0) throw missingParam('line_items');
  const lineItems = itemParams.map((p, i) => {
    const priceId = reqString(p, 'price', `line_items[${i}][price]`);
    const price = getPrice(account, priceId, `line_items[${i}][price]`);
    if (mode === 'subscription' && !price.recurring) {
      // Stripe accepts one-time prices in subscription mode (added to the first invoice); keep it simple.
      throw invalidRequest(
        'In subscription mode, line_items must use recurring prices.',
        `line_items[${i}][price]`,
      );
    }
    if (mode === 'payment' && price.recurring) {
      throw invalidRequest(
        'You must provide at least one recurring price in `subscription` mode when using prices; in `payment` mode prices must be one-time.',
        `line_items[${i}][price]`,
      );
    }
    return {
      id: newId('li'),
      price: price.id,
      quantity: optInt(p, 'quantity', `line_items[${i}][quantity]`) ?? 1,
      unit: price.unit_amount ?? 0,
      currency: price.currency,
    };
  });
  const currencies = new Set(lineItems.map((l) => l.currency));
  if (currencies.size > 1) throw invalidRequest('All line items must share the same currency.', 'line_items');
  const currency = lineItems[0]?.currency ?? optNonEmpty(params, 'currency')?.toLowerCase() ?? null;
  const subtotal = lineItems.reduce((sum, l) => sum + l.unit * l.quantity, 0);

  const subData = optObject(params, 'subscription_data');
  const trialDays = subData
    ? optInt(subData, 'trial_period_days', 'subscription_data[trial_period_days]')
    : undefined;
  const trialing = mode === 'subscription' && trialDays !== undefined && trialDays > 0;
  const amountTotal = mode === 'setup' ? null : trialing ? 0 : subtotal;

  const creationParam = optNonEmpty(params, 'customer_creation');
  if (creationParam !== undefined && creationParam !== 'always' && creationParam !== 'if_required') {
    throw invalidRequest(
      'Invalid customer_creation: must be one of always or if_required',
      'customer_creation',
    );
  }
  if (creationParam !== undefined && mode !== 'payment') {
    throw invalidRequest('`customer_creation` can only be used in `payment` mode.', 'customer_creation');
  }
  const creation = creationParam ?? (mode === 'payment' ? 'if_required' : 'always');
  const now = customer ? nowFor(account, customer.id) : realNow();
  const id = checkoutSessionId();
  const paymentTypes = optStringArray(params, 'payment_method_types') ?? ['card'];
  const expiresAt = optInt(params, 'expires_at') ?? now + DAY;
  const base = baseUrlFor(account);
  const session: Stripe.Checkout.Session = {
    id,
    object: 'checkout.session',
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: mode === 'setup' ? null : subtotal,
    amount_total: amountTotal,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: optNonEmpty(params, 'cancel_url') ?? null,
    client_reference_id: optNonEmpty(params, 'client_reference_id') ?? null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: now,
    currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: customer?.id ?? null,
    customer_account: null,
    customer_creation: customer ? null : creation,
    customer_details: customer
      ? {
          address: customer.address ?? null,
          business_name: null,
          email: customer.email ?? null,
          individual_name: null,
          name: customer.name ?? null,
          phone: customer.phone ?? null,
          tax_exempt: 'none',
          tax_ids: [],
        }
      : customerEmail
        ? {
            address: null,
            business_name: null,
            email: customerEmail,
            individual_name: null,
            name: null,
            phone: null,
            tax_exempt: 'none',
            tax_ids: [],
          }
        : null,
    customer_email: customerEmail,
    discounts: [],
    expires_at: expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: applyMetadata({}, params),
    mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: mode === 'subscription' ? 'always' : null,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: paymentTypes,
    payment_status: mode === 'setup' || amountTotal === 0 ? 'no_payment_required' : 'unpaid',
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: successUrl,
    total_details: mode === 'setup' ? null : { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted_page',
    url: `${base}/_emulator/checkout/${id}`,
    wallet_options: null,
  };
  if (returnUrl) session.return_url = returnUrl;
  const internal = internalOfSession(account, id);
  internal.lineItems = lineItems.map((l) => ({ id: l.id, price: l.price, quantity: l.quantity }));
  internal.customerCreation = creation;
  if (subData) {
    internal.subscriptionData = {
      trialPeriodDays: trialDays,
      metadata: applyMetadata({}, subData),
      description: optNonEmpty(subData, 'description', 'subscription_data[description]'),
    };
  }
  const piData = optObject(params, 'payment_intent_data');
  if (piData)
    internal.paymentIntentData = {
      description: optNonEmpty(piData, 'description'),
      metadata: applyMetadata({}, piData),
    };
  account.checkout_sessions.set(id, session);
  return session;
}

/** The session's line items as `item` objects. */
export function lineItemsOf(account: Account, session: Stripe.Checkout.Session): Stripe.LineItem[] {
  return internalOfSession(account, session.id).lineItems.map((l) => {
    const price = getPrice(account, l.price, 'price');
    const amount = (price.unit_amount ?? 0) * l.quantity;
    const product = account.products.get(
      typeof price.product === 'string' ? price.product : price.product.id,
    );
    return {
      id: l.id,
      object: 'item',
      adjustable_quantity: null,
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: product?.name ?? price.nickname ?? null,
      metadata: {},
      price,
      quantity: l.quantity,
    };
  });
}

export function expireSession(account: Account, session: Stripe.Checkout.Session): Stripe.Checkout.Session {
  if (session.status !== 'open') {
    throw invalidRequest(
      `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`,
    );
  }
  session.status = 'expired';
  session.url = null;
  emitEvent(account, { type: 'checkout.session.expired', object: session });
  return session;
}

export interface CompletionInput {
  paymentMethod: string;
  email?: string | undefined;
  name?: string | undefined;
}

function ensureOpen(session: Stripe.Checkout.Session): void {
  if (session.status === 'complete')
    throw invalidRequest(
      'This Checkout Session is already complete.',
      undefined,
      'checkout_session_complete',
    );
  if (session.status !== 'open' || session.expires_at < realNow()) {
    throw invalidRequest('This Checkout Session has expired.', undefined, 'checkout_session_expired');
  }
}

/**
 * Completes an open session. A declined card throws the card error (402) and leaves the session open
 * so the buyer can try another card, as the hosted page does.
 */
export function completeSession(
  account: Account,
  session: Stripe.Checkout.Session,
  input: CompletionInput,
): Stripe.Checkout.Session {
  ensureOpen(session);
  const internal = internalOfSession(account, session.id);
  let customerId = sessionCustomer(session);
  const email = input.email || session.customer_details?.email || session.customer_email || undefined;
  // Resolve the card before creating anything, so an unknown method creates nothing.
  const pm = payments().resolvePaymentMethod(account, input.paymentMethod, null, 'payment_method');
  if (!customerId && (session.mode !== 'payment' || internal.customerCreation === 'always')) {
    const body: FormParams = {};
    if (email) body.email = email;
    if (input.name) body.name = input.name;
    customerId = createCustomer(account, body).id;
  }
  const currency = session.currency ?? 'usd';
  if (session.mode === 'payment') {
    const result = payments().charge(account, {
      amount: session.amount_total ?? 0,
      currency,
      customer: customerId,
      paymentMethod: pm.id,
      offSession: false,
      description: internal.paymentIntentData?.description ?? 'Checkout payment',
      metadata: internal.paymentIntentData?.metadata ?? {},
      invoiceId: null,
    });
    session.payment_intent = result.paymentIntent.id;
    if (result.outcome !== 'succeeded' && result.outcome !== 'processing') {
      throw declineError(result);
    }
    session.payment_status = result.outcome === 'succeeded' ? 'paid' : 'unpaid';
  } else if (session.mode === 'subscription') {
    if (!customerId)
      throw new StripeApiError({ status: 500, type: 'api_error', message: 'checkout: no customer' });
    const attached = payments().resolvePaymentMethod(account, pm.id, customerId, 'payment_method');
    const params: FormParams = {
      customer: customerId,
      items: internal.lineItems.map((l) => ({ price: l.price, quantity: String(l.quantity) })),
      default_payment_method: attached.id,
      payment_behavior: 'error_if_incomplete',
    };
    const data = internal.subscriptionData;
    if (data?.trialPeriodDays) params.trial_period_days = String(data.trialPeriodDays);
    if (data?.metadata && Object.keys(data.metadata).length > 0) params.metadata = data.metadata;
    if (data?.description) params.description = data.description;
    const sub = createSubscription(account, params);
    session.subscription = sub.id;
    session.invoice =
      typeof sub.latest_invoice === 'string' ? sub.latest_invoice : (sub.latest_invoice?.id ?? null);
    session.payment_status = session.amount_total === 0 ? 'no_payment_required' : 'paid';
  } else {
    if (!customerId)
      throw new StripeApiError({ status: 500, type: 'api_error', message: 'checkout: no customer' });
    const attached = payments().resolvePaymentMethod(account, pm.id, customerId, 'payment_method');
    session.setup_intent = payments().createSucceededSetupIntent(account, customerId, attached.id).id;
    session.payment_status = 'no_payment_required';
  }
  const customer = customerId ? account.customers.get(customerId) : undefined;
  session.customer = customerId;
  session.customer_details = {
    address: customer?.address ?? null,
    business_name: null,
    email: customer?.email ?? email ?? null,
    individual_name: null,
    name: customer?.name ?? input.name ?? null,
    phone: customer?.phone ?? null,
    tax_exempt: 'none',
    tax_ids: [],
  };
  session.status = 'complete';
  session.url = null;
  emitEvent(account, { type: 'checkout.session.completed', object: session, customerId });
  return session;
}

/** The redirect after completion: `success_url` with `{CHECKOUT_SESSION_ID}` filled in. */
export function successRedirect(session: Stripe.Checkout.Session): string {
  const url = session.success_url ?? session.return_url ?? '/';
  return url.split('{CHECKOUT_SESSION_ID}').join(session.id);
}
