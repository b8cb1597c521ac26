import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { diffAttributes, emitEvent, runOutsideRequest } from '../core/events.js';
import { fingerprintOf, newId } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { type TestCard, cardForNumber, cardForShortcut, displayBrand } from '../core/test-cards.js';
import { nowFor, realNow } from '../core/time.js';
import {
  type StripeApiError,
  cardError,
  invalidRequest,
  missingParam,
  resourceMissing,
} from '../http/errors.js';
import {
  type FormParams,
  applyMetadata,
  optInt,
  optNonEmpty,
  optObject,
  optString,
  reqString,
} from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { getCustomer, setCustomerPaymentHooks, updateCustomer } from './customers.js';

/** Emulator-only facts kept in `account.internalOf(pm.id)`. */
export interface PaymentMethodInternal {
  /** The test card behind a card method. */
  card?: TestCard;
  /** A SetupIntent with this method succeeded (3-D Secure done once: off-session payments pass). */
  setupDone?: boolean;
  /** A PayPal method whose redirect was approved once. */
  paypalApproved?: boolean;
  /** Detached from its customer: Stripe never lets it be attached (or used) again. */
  detached?: boolean;
}

export function pmInternal(account: Account, id: string): PaymentMethodInternal {
  return account.internalOf(id);
}

/** The test card of a card payment method (undefined for other types). */
export function testCardOf(account: Account, pm: Stripe.PaymentMethod): TestCard | undefined {
  return pmInternal(account, pm.id).card;
}

export function customerIdOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

function emptyBillingDetails(): Stripe.PaymentMethod.BillingDetails {
  return { address: null, email: null, name: null, phone: null, tax_id: null };
}

function billingDetailsFrom(
  current: Stripe.PaymentMethod.BillingDetails,
  params: FormParams | undefined,
): Stripe.PaymentMethod.BillingDetails {
  if (!params) return current;
  const next = { ...current };
  for (const key of ['email', 'name', 'phone'] as const) {
    const v = optString(params, key, `billing_details[${key}]`);
    if (v !== undefined) next[key] = v === '' ? null : v;
  }
  const address = optObject(params, 'address', 'billing_details[address]');
  if (address) {
    const s = (k: string): string | null => {
      const v = address[k];
      return typeof v === 'string' && v !== '' ? v : null;
    };
    next.address = {
      city: s('city'),
      country: s('country'),
      line1: s('line1'),
      line2: s('line2'),
      postal_code: s('postal_code'),
      state: s('state'),
    };
  }
  return next;
}

function cardObject(
  card: TestCard,
  expMonth: number,
  expYear: number,
  cvcChecked: boolean,
): Stripe.PaymentMethod.Card {
  return {
    brand: card.brand,
    checks: {
      address_line1_check: null,
      address_postal_code_check: null,
      cvc_check: cvcChecked ? 'pass' : null,
    },
    country: card.country,
    display_brand: displayBrand(card.brand),
    exp_month: expMonth,
    exp_year: expYear,
    fingerprint: fingerprintOf(card.number),
    funding: card.funding,
    generated_from: null,
    last4: card.number.slice(-4),
    networks: { available: [card.brand], preferred: null },
    regulated_status: 'unregulated',
    three_d_secure_usage: { supported: true },
    wallet: null,
  };
}

/**
 * A test card's expiry when none is given: three years after "now", the customer's test clock time when
 * the card is made for a customer on one (so a clock set years ahead does not hold cards that expired
 * long before its renewals), else real time.
 */
function defaultExpiry(nowSeconds: number): { month: number; year: number } {
  const now = new Date(nowSeconds * 1000);
  return { month: now.getUTCMonth() + 1, year: now.getUTCFullYear() + 3 };
}

/** Creates a stored card PaymentMethod from a test card. */
export function createCardPaymentMethod(
  account: Account,
  card: TestCard,
  options: {
    expMonth?: number;
    expYear?: number;
    cvc?: boolean;
    billingDetails?: FormParams;
    metadata?: FormParams;
    customer?: string | null;
  } = {},
): Stripe.PaymentMethod {
  const exp = defaultExpiry(options.customer ? nowFor(account, options.customer) : realNow());
  const pm: Stripe.PaymentMethod = {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: billingDetailsFrom(emptyBillingDetails(), options.billingDetails),
    card: cardObject(card, options.expMonth ?? exp.month, options.expYear ?? exp.year, options.cvc ?? false),
    created: options.customer ? nowFor(account, options.customer) : realNow(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: options.metadata ? applyMetadata({}, options.metadata) : {},
    type: 'card',
  };
  account.payment_methods.set(pm.id, pm);
  pmInternal(account, pm.id).card = card;
  return pm;
}

function createPaypalPaymentMethod(
  account: Account,
  billingDetails?: FormParams,
  metadata?: FormParams,
): Stripe.PaymentMethod {
  const pm: Stripe.PaymentMethod = {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: billingDetailsFrom(emptyBillingDetails(), billingDetails),
    created: realNow(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: metadata ? applyMetadata({}, metadata) : {},
    paypal: { country: null, payer_email: null, payer_id: null },
    type: 'paypal',
  };
  account.payment_methods.set(pm.id, pm);
  return pm;
}

/** Marks a PayPal method approved (the simulated redirect approval fills in the payer). */
export function approvePaypal(account: Account, pm: Stripe.PaymentMethod): void {
  pmInternal(account, pm.id).paypalApproved = true;
  if (pm.paypal && !pm.paypal.payer_id) {
    pm.paypal = {
      country: 'US',
      payer_email: 'buyer@example.com',
      payer_id: `PAYER${pm.id.slice(3, 13).toUpperCase()}`,
    };
    if (!pm.billing_details.email) pm.billing_details = { ...pm.billing_details, email: 'buyer@example.com' };
  }
}

/**
 * A payment method by id or by shortcut: `pm_card_visa`, `pm_card_chargeCustomerFail`, `tok_visa`, ...
 * create a new method from the test card each time (as Stripe does); `tok_...` ids of created tokens
 * are consumed; real ids are looked up.
 */
export function resolvePaymentMethod(
  account: Account,
  idOrShortcut: string,
  param = 'payment_method',
  /** The customer a shortcut's new card is made for (its clock dates the card). */
  forCustomer?: string,
): Stripe.PaymentMethod {
  const existing = account.payment_methods.get(idOrShortcut);
  // Detachment is permanent: a detached method is refused wherever it is used again (Stripe's rule).
  if (existing && pmInternal(account, existing.id).detached) {
    throw invalidRequest(DETACHED_METHOD_MESSAGE, param);
  }
  if (existing) return existing;
  const token = account.tokens.get(idOrShortcut);
  if (token) return paymentMethodFromToken(account, token, param);
  const shortcut = cardForShortcut(idOrShortcut);
  if (shortcut) {
    return createCardPaymentMethod(account, shortcut, {
      cvc: true,
      ...(forCustomer ? { customer: forCustomer } : {}),
    });
  }
  throw resourceMissing('PaymentMethod', idOrShortcut, param);
}

function paymentMethodFromToken(account: Account, token: Stripe.Token, param: string): Stripe.PaymentMethod {
  const card = account.internal.get(token.id)?.card as TestCard | undefined;
  if (!card || !token.card) throw invalidRequest(`No such token: '${token.id}'`, param, 'resource_missing');
  if (token.used) {
    throw invalidRequest(
      `You cannot use a Stripe token more than once: ${token.id}.`,
      param,
      'token_already_used',
    );
  }
  token.used = true;
  return createCardPaymentMethod(account, card, {
    expMonth: token.card.exp_month,
    expYear: token.card.exp_year,
    cvc: token.card.cvc_check === 'pass',
  });
}

/** Reads `card[number]`, `card[exp_month]`, `card[exp_year]`, `card[cvc]` (or `card[token]`). */
export function readCardParams(
  account: Account,
  card: FormParams,
  prefix = 'card',
): { card: TestCard; expMonth: number; expYear: number; cvc: boolean } {
  const token = optNonEmpty(card, 'token', `${prefix}[token]`);
  if (token) {
    const pm = resolvePaymentMethod(account, token, `${prefix}[token]`);
    const test = testCardOf(account, pm);
    if (!test || !pm.card) throw invalidRequest(`Invalid token: ${token}`, `${prefix}[token]`);
    account.payment_methods.delete(pm.id);
    return {
      card: test,
      expMonth: pm.card.exp_month,
      expYear: pm.card.exp_year,
      cvc: pm.card.checks?.cvc_check === 'pass',
    };
  }
  const number = optNonEmpty(card, 'number', `${prefix}[number]`);
  if (!number) throw missingParam(`${prefix}[number]`);
  const test = cardForNumber(number);
  if (!test) {
    throw cardError({
      code: 'incorrect_number',
      message: 'Your card number is incorrect.',
      param: `${prefix}[number]`,
    });
  }
  const expMonth = optInt(card, 'exp_month', `${prefix}[exp_month]`);
  if (expMonth === undefined) throw missingParam(`${prefix}[exp_month]`);
  const expYear = optInt(card, 'exp_year', `${prefix}[exp_year]`);
  if (expYear === undefined) throw missingParam(`${prefix}[exp_year]`);
  const expiry = checkExpiry(expMonth, expYear, prefix);
  const cvc = optNonEmpty(card, 'cvc', `${prefix}[cvc]`);
  return { card: test, expMonth: expiry.month, expYear: expiry.year, cvc: cvc !== undefined };
}

/**
 * An expiry as Stripe accepts it (two-digit years are 20xx): a month 1-12, not in the past, at most 50
 * years ahead; a 402 `invalid_expiry_month` / `invalid_expiry_year` card error otherwise.
 */
export function checkExpiry(month: number, year: number, prefix = 'card'): { month: number; year: number } {
  if (month < 1 || month > 12) {
    throw cardError({
      code: 'invalid_expiry_month',
      message: "Your card's expiration month is invalid.",
      param: `${prefix}[exp_month]`,
    });
  }
  const fullYear = year < 100 ? year + 2000 : year;
  const now = new Date();
  const thisYear = now.getUTCFullYear();
  if (
    fullYear < thisYear ||
    (fullYear === thisYear && month < now.getUTCMonth() + 1) ||
    fullYear > thisYear + 50
  ) {
    throw cardError({
      code: 'invalid_expiry_year',
      message: "Your card's expiration year is invalid.",
      param: `${prefix}[exp_year]`,
    });
  }
  return { month, year: fullYear };
}

function getPaymentMethod(account: Account, id: string): Stripe.PaymentMethod {
  const pm = account.payment_methods.get(id);
  if (!pm) throw resourceMissing('PaymentMethod', id);
  return pm;
}

/** The card error a declining test card raises (at attach, setup or charge). */
export function declineError(
  behavior:
    | Extract<TestCard['behavior'], { kind: 'decline' }>
    | { code: string; declineCode: string; message: string },
  extra: Record<string, unknown> = {},
): StripeApiError {
  return cardError({
    code: behavior.code,
    declineCode: behavior.declineCode,
    message: behavior.message,
    extra,
  });
}

/** Stripe's answer to attaching a method that was detached (a 400 `invalid_request_error` without a code). */
const DETACHED_METHOD_MESSAGE =
  'This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.';

/**
 * Attaches a method to a customer. Declining test cards fail here (Stripe verifies the card), except
 * the attach-then-fail card (`4000000000000341`). A detached method is refused: detachment is permanent.
 */
export function attachPaymentMethod(
  account: Account,
  pmId: string,
  customerId: string,
  param = 'customer',
): Stripe.PaymentMethod {
  const pm = resolvePaymentMethod(account, pmId, 'payment_method', customerId);
  getCustomer(account, customerId, param);
  if (pmInternal(account, pm.id).detached) throw invalidRequest(DETACHED_METHOD_MESSAGE);
  const current = customerIdOf(pm.customer);
  if (current === customerId) return pm;
  if (current) {
    throw invalidRequest(
      'The payment method you provided has already been attached to a customer.',
      'payment_method',
    );
  }
  const card = testCardOf(account, pm);
  if (card?.behavior.kind === 'decline') throw declineError(card.behavior, { payment_method: pm });
  pm.customer = customerId;
  emitEvent(account, { type: 'payment_method.attached', object: pm, customerId });
  return pm;
}

/** Detaches a method; a customer whose default it was loses the default (Stripe does the same). */
export function detachPaymentMethod(account: Account, pmId: string): Stripe.PaymentMethod {
  const pm = getPaymentMethod(account, pmId);
  const customerId = customerIdOf(pm.customer);
  if (!customerId) {
    throw invalidRequest(
      'The payment method you provided is not attached to a customer so detachment is impossible.',
      'payment_method',
    );
  }
  const customer = account.customers.get(customerId);
  if (customer && customer.invoice_settings.default_payment_method === pm.id) {
    updateCustomer(account, customerId, { invoice_settings: { default_payment_method: '' } });
  }
  pm.customer = null;
  pmInternal(account, pm.id).detached = true;
  emitEvent(account, {
    type: 'payment_method.detached',
    object: pm,
    previousAttributes: { customer: customerId },
    customerId,
  });
  return pm;
}

/**
 * `POST /v1/payment_methods/:id`: billing details, metadata and a card's expiry (all Stripe lets one
 * change; the number cannot be). As in Stripe the method must be attached to a customer; a change emits
 * `payment_method.updated` with `previous_attributes`.
 */
export function updatePaymentMethod(account: Account, id: string, body: FormParams): Stripe.PaymentMethod {
  const pm = getPaymentMethod(account, id);
  if (!customerIdOf(pm.customer)) {
    throw invalidRequest('You must save this PaymentMethod to a customer before you can update it.');
  }
  const card = optObject(body, 'card');
  if (card && !pm.card) {
    throw invalidRequest(`You cannot update card details of a ${pm.type} PaymentMethod.`, 'card');
  }
  const before = structuredClone(pm);
  const billing = optObject(body, 'billing_details');
  if (billing) pm.billing_details = billingDetailsFrom(pm.billing_details, billing);
  pm.metadata = applyMetadata(pm.metadata ?? {}, body);
  if (card && pm.card) {
    const month = optInt(card, 'exp_month', 'card[exp_month]') ?? pm.card.exp_month;
    const year = optInt(card, 'exp_year', 'card[exp_year]') ?? pm.card.exp_year;
    const expiry = checkExpiry(month, year);
    pm.card = { ...pm.card, exp_month: expiry.month, exp_year: expiry.year };
  }
  const previous = diffAttributes(before, pm);
  if (previous)
    emitEvent(account, { type: 'payment_method.updated', object: pm, previousAttributes: previous });
  return pm;
}

/**
 * What the card networks' account updater does to a saved card that was reissued: a new expiry (by
 * default the same month three years after the current one) and, when the card got a new number, its
 * new `last4` (and brand and fingerprint); the emulator's card then behaves as that number's test card
 * (a reissued `4000000000000341` given `4242424242424242` is charged successfully). Then
 * `payment_method.automatically_updated` outside any API request (`request.id` null), as Stripe sends it.
 */
export function automaticallyUpdateCard(
  account: Account,
  id: string,
  update: { expMonth?: number | undefined; expYear?: number | undefined; number?: string | undefined } = {},
): Stripe.PaymentMethod {
  const pm = getPaymentMethod(account, id);
  if (!pm.card) throw invalidRequest(`Only card payment methods are updated by the card networks.`, 'id');
  if (!customerIdOf(pm.customer)) {
    throw invalidRequest('The card networks update only cards saved to a customer.', 'id');
  }
  let reissued: TestCard | undefined;
  if (update.number !== undefined) {
    reissued = cardForNumber(update.number);
    if (!reissued) throw invalidRequest('Your card number is incorrect.', 'number', 'incorrect_number');
  }
  const next = checkExpiry(update.expMonth ?? pm.card.exp_month, update.expYear ?? pm.card.exp_year + 3);
  pm.card = { ...pm.card, exp_month: next.month, exp_year: next.year };
  if (reissued) {
    pm.card = {
      ...pm.card,
      brand: reissued.brand,
      display_brand: displayBrand(reissued.brand),
      last4: reissued.number.slice(-4),
      fingerprint: fingerprintOf(reissued.number),
      funding: reissued.funding,
      country: reissued.country,
      networks: { available: [reissued.brand], preferred: null },
    };
    pmInternal(account, pm.id).card = reissued;
  }
  runOutsideRequest(() => emitEvent(account, { type: 'payment_method.automatically_updated', object: pm }));
  return pm;
}

/** What the emulator's charges of a saved card do from now on (`/_emulator/payment_methods/:id/charges`). */
export const CHARGE_OUTCOMES = ['succeed', 'fail'] as const;

/**
 * Emulator-only: makes a saved test card's next charges succeed (`succeed`: the bank now approves it, as
 * a customer who called their bank would see) or fail (`fail`: as `4000000000000341`, attached fine and
 * every charge declined). The card's number, expiry and id stay; no event (nothing changed at Stripe).
 */
export function setChargeOutcome(
  account: Account,
  id: string,
  outcome: (typeof CHARGE_OUTCOMES)[number],
): Stripe.PaymentMethod {
  const pm = getPaymentMethod(account, id);
  const internal = pmInternal(account, pm.id);
  if (!pm.card || !internal.card) {
    throw invalidRequest('Only card payment methods have a charge outcome.', 'id');
  }
  internal.card = {
    ...internal.card,
    behavior: outcome === 'succeed' ? { kind: 'success' } : { kind: 'charge_fail' },
  };
  return pm;
}

function listFor(account: Account, params: FormParams, url: string, customerId: string | undefined): unknown {
  const type = optNonEmpty(params, 'type');
  return paginate(account.payment_methods.values(), params, url, {
    filter: (pm) =>
      (customerId === undefined || customerIdOf(pm.customer) === customerId) &&
      (type === undefined || pm.type === type),
  });
}

export function register(router: Router<ApiRequest>, ctx: EmulatorContext): void {
  setCustomerPaymentHooks({
    attach: (account, customerId, idOrShortcut) =>
      attachPaymentMethod(account, idOrShortcut, customerId, 'payment_method').id,
  });

  router.post('/v1/payment_methods', (req) => {
    const body = req.body;
    const type = optNonEmpty(body, 'type') ?? (body.card !== undefined ? 'card' : undefined);
    const billingDetails = optObject(body, 'billing_details');
    const metadata = body.metadata !== undefined ? body : undefined;
    if (type === 'paypal') return createPaypalPaymentMethod(req.account, billingDetails, metadata);
    if (type !== 'card') {
      if (type === undefined) throw missingParam('type');
      throw invalidRequest(
        `The emulator supports payment method types card and paypal, not ${type}.`,
        'type',
      );
    }
    const shortcutOrToken = body.card;
    if (typeof shortcutOrToken === 'string' && shortcutOrToken !== '') {
      const pm = resolvePaymentMethod(req.account, shortcutOrToken, 'card');
      return pm;
    }
    const cardParams = optObject(body, 'card');
    if (!cardParams) throw missingParam('card');
    const read = readCardParams(req.account, cardParams);
    return createCardPaymentMethod(req.account, read.card, {
      expMonth: read.expMonth,
      expYear: read.expYear,
      cvc: read.cvc,
      ...(billingDetails ? { billingDetails } : {}),
      ...(metadata ? { metadata } : {}),
    });
  });

  router.get('/v1/payment_methods/:id', (req) => {
    const id = req.params.id ?? '';
    if (cardForShortcut(id)) return resolvePaymentMethod(req.account, id, 'id');
    return getPaymentMethod(req.account, id);
  });

  router.post('/v1/payment_methods/:id', (req) =>
    updatePaymentMethod(req.account, req.params.id ?? '', req.body),
  );

  router.post('/v1/payment_methods/:id/attach', (req) =>
    attachPaymentMethod(req.account, req.params.id ?? '', reqString(req.body, 'customer')),
  );

  router.post('/v1/payment_methods/:id/detach', (req) =>
    detachPaymentMethod(req.account, req.params.id ?? ''),
  );

  router.get('/v1/payment_methods', (req) =>
    listFor(req.account, req.query, '/v1/payment_methods', optNonEmpty(req.query, 'customer')),
  );

  router.get('/v1/customers/:id/payment_methods', (req) => {
    const id = req.params.id ?? '';
    getCustomer(req.account, id);
    return listFor(req.account, req.query, `/v1/customers/${id}/payment_methods`, id);
  });

  router.get('/v1/customers/:id/payment_methods/:pm', (req) => {
    const pm = getPaymentMethod(req.account, req.params.pm ?? '');
    if (customerIdOf(pm.customer) !== req.params.id)
      throw resourceMissing('PaymentMethod', pm.id, 'payment_method');
    return pm;
  });

  // Stripe has no API for this (the networks do it): `exp_month` / `exp_year` / `number` (form or query).
  ctx.pages.post('/_emulator/payment_methods/:id/automatically_update', (req) => {
    const id = req.params.id ?? '';
    const owner = ctx.state.findOwner('payment_methods', id);
    if (!owner) throw resourceMissing('payment_method', id);
    const input = { ...req.query, ...req.body };
    return automaticallyUpdateCard(owner.account, id, {
      expMonth: optInt(input, 'exp_month'),
      expYear: optInt(input, 'exp_year'),
      number: optNonEmpty(input, 'number'),
    });
  });

  // Emulator-only: `outcome=succeed|fail` for the card's next charges (form or query).
  ctx.pages.post('/_emulator/payment_methods/:id/charges', (req) => {
    const id = req.params.id ?? '';
    const owner = ctx.state.findOwner('payment_methods', id);
    if (!owner) throw resourceMissing('payment_method', id);
    const outcome = optNonEmpty({ ...req.query, ...req.body }, 'outcome');
    if (outcome === undefined) throw missingParam('outcome');
    if (!(CHARGE_OUTCOMES as readonly string[]).includes(outcome)) {
      throw invalidRequest(`outcome must be one of ${CHARGE_OUTCOMES.join(', ')}.`, 'outcome');
    }
    return setChargeOutcome(owner.account, id, outcome as (typeof CHARGE_OUTCOMES)[number]);
  });
}
