import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { emitEvent } from '../core/events.js';
import { clientSecret, newId } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { nowFor } from '../core/time.js';
import { invalidRequest, resourceMissing, unexpectedState } from '../http/errors.js';
import { registerExpander } from '../http/expand.js';
import {
  type FormParams,
  applyMetadata,
  optBool,
  optInt,
  optNonEmpty,
  optString,
  optStringArray,
  reqInt,
  reqString,
} from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { captureCharge, createCharge } from './charges.js';
import { getCustomer } from './customers.js';
import * as intents from './intent-confirmation.js';
import {
  approvePaypal,
  attachPaymentMethod,
  customerIdOf,
  pmInternal,
  resolvePaymentMethod,
} from './payment-methods.js';

export { resolvePaymentMethod } from './payment-methods.js';

/** Emulator-only facts of a PaymentIntent. */
interface PaymentIntentInternal {
  /** 3-D Secure (or PayPal approval) completed for the current payment method. */
  authenticated?: boolean;
  offSession?: boolean;
  returnUrl?: string | null;
  invoiceId?: string | null;
}

function piInternal(account: Account, id: string): PaymentIntentInternal {
  return account.internalOf(id);
}

const MINIMUMS: Readonly<Record<string, number>> = {
  usd: 50,
  eur: 50,
  cad: 50,
  aud: 50,
  chf: 50,
  gbp: 30,
  jpy: 50,
  nzd: 50,
  sgd: 50,
};

const AUTH_REQUIRED = {
  code: 'authentication_required',
  declineCode: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
};

const AUTH_FAILED_MESSAGE =
  'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.';

export function getPaymentIntent(account: Account, id: string, param = 'id'): Stripe.PaymentIntent {
  const pi = account.payment_intents.get(id);
  if (!pi) throw resourceMissing('payment_intent', id, param);
  return pi;
}

export interface CreatePaymentIntentInput {
  amount: number;
  currency: string;
  customer?: string | null;
  payment_method?: string | null;
  payment_method_types?: string[];
  /** The types came as `allowed_payment_method_types` (echoed back in that field). */
  allowed_payment_method_types?: boolean;
  capture_method?: 'automatic' | 'automatic_async' | 'manual';
  description?: string | null;
  metadata?: Stripe.Metadata;
  receipt_email?: string | null;
  setup_future_usage?: 'off_session' | 'on_session' | null;
  statement_descriptor?: string | null;
}

/** Creates a PaymentIntent (`requires_payment_method` or `requires_confirmation`), emits `payment_intent.created`. */
export function createPaymentIntent(account: Account, input: CreatePaymentIntentInput): Stripe.PaymentIntent {
  const currency = input.currency.toLowerCase();
  if (!Number.isSafeInteger(input.amount) || input.amount < 1) {
    throw invalidRequest('This value must be greater than or equal to 1.', 'amount');
  }
  const minimum = MINIMUMS[currency];
  if (minimum !== undefined && input.amount < minimum) {
    throw invalidRequest(
      `Amount must be at least ${minimum} ${currency} minor units.`,
      'amount',
      'amount_too_small',
    );
  }
  const customer = input.customer ?? null;
  if (customer) getCustomer(account, customer, 'customer');
  const pm = input.payment_method ? resolvePaymentMethod(account, input.payment_method) : null;
  const automatic = input.payment_method_types === undefined;
  const id = newId('pi');
  const pi: Stripe.PaymentIntent = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types:
      input.allowed_payment_method_types && input.payment_method_types ? input.payment_method_types : null,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: automatic ? { allow_redirects: 'always', enabled: true } : null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: input.capture_method ?? 'automatic_async',
    client_secret: clientSecret(id),
    confirmation_method: 'automatic',
    created: nowFor(account, customer),
    currency,
    customer,
    customer_account: null,
    description: input.description ?? null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata ?? {},
    next_action: null,
    on_behalf_of: null,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: automatic ? { id: 'pmc_emulator_default', parent: null } : null,
    payment_method_options: {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types: input.payment_method_types ?? ['card', 'paypal'],
    payment_record: null,
    processing: null,
    receipt_email: input.receipt_email ?? null,
    review: null,
    setup_future_usage: input.setup_future_usage ?? null,
    shipping: null,
    source: null,
    statement_descriptor: input.statement_descriptor ?? null,
    statement_descriptor_suffix: null,
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    transfer_group: null,
  };
  account.payment_intents.set(id, pi);
  emitEvent(account, { type: 'payment_intent.created', object: pi });
  return pi;
}

export interface ConfirmOptions {
  paymentMethod?: string | null;
  offSession?: boolean;
  returnUrl?: string | null;
  /** Throw the 402 card error on decline (API confirm); `false` for billing's off-session attempts. */
  throwOnDecline?: boolean;
  /** Billing charges an invoice: 3-D Secure turns into `requires_action` even off-session. */
  forInvoice?: boolean;
  errorOnRequiresAction?: boolean;
}

/** Confirms a PaymentIntent: succeeds, requires action (3-D Secure / PayPal), or fails with a card error. */
export function confirmPaymentIntent(
  account: Account,
  pi: Stripe.PaymentIntent,
  options: ConfirmOptions = {},
): Stripe.PaymentIntent {
  const pm = intents.confirmingPaymentMethod(account, pi, options.paymentMethod);
  const owner = customerIdOf(pm.customer);
  const customer = customerIdOf(pi.customer);
  if (owner && owner !== customer) {
    throw invalidRequest(
      `The provided PaymentMethod belongs to a different Customer than the PaymentIntent (${owner}).`,
      'payment_method',
    );
  }
  if (!pi.payment_method_types.includes(pm.type)) {
    throw invalidRequest(
      `The PaymentMethod provided (${pm.type}) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: ${pi.payment_method_types.join(', ')}.`,
      'payment_method',
    );
  }
  const internal = piInternal(account, pi.id);
  if (pi.payment_method !== pm.id) internal.authenticated = false;
  pi.payment_method = pm.id;
  pi.last_payment_error = null;
  pi.next_action = null;
  if (options.offSession !== undefined) internal.offSession = options.offSession;
  if (options.returnUrl !== undefined) internal.returnUrl = options.returnUrl;
  const offSession = internal.offSession ?? false;

  if (pm.type === 'paypal') {
    if (!pmInternal(account, pm.id).paypalApproved && !internal.authenticated)
      return intents.requireAction(account, pi, internal.returnUrl);
    return succeed(account, pi, pm, false);
  }

  const behavior = intents.cardBehaviorOf(account, pm);
  switch (behavior.kind) {
    case 'decline':
      return fail(account, pi, pm, behavior, options.throwOnDecline ?? true);
    case 'charge_fail':
      return fail(
        account,
        pi,
        pm,
        { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
        options.throwOnDecline ?? true,
      );
    case 'auth_always':
    case 'auth_on_setup': {
      const needsAuth =
        behavior.kind === 'auth_always' || !(pmInternal(account, pm.id).setupDone ?? false) || !offSession;
      if (!needsAuth || internal.authenticated)
        return succeed(account, pi, pm, internal.authenticated ?? false);
      if (offSession && !options.forInvoice)
        return fail(account, pi, pm, AUTH_REQUIRED, options.throwOnDecline ?? true);
      if (options.errorOnRequiresAction)
        return fail(account, pi, pm, AUTH_REQUIRED, options.throwOnDecline ?? true);
      return intents.requireAction(account, pi, internal.returnUrl);
    }
    case 'success':
    case 'refund_fail':
      return succeed(account, pi, pm, false);
  }
}

function succeed(
  account: Account,
  pi: Stripe.PaymentIntent,
  pm: Stripe.PaymentMethod,
  threeDSecure: boolean,
): Stripe.PaymentIntent {
  const customer = customerIdOf(pi.customer);
  const manual = pi.capture_method === 'manual';
  const charge = createCharge(account, {
    amount: pi.amount,
    currency: pi.currency,
    customer,
    paymentMethod: pm,
    paymentIntent: pi.id,
    description: pi.description,
    metadata: pi.metadata,
    capture: !manual,
    threeDSecure,
    receiptEmail: pi.receipt_email,
    statementDescriptor: pi.statement_descriptor,
  });
  pi.latest_charge = charge.id;
  pi.next_action = null;
  pi.last_payment_error = null;
  if (customer && pi.setup_future_usage && !pm.customer) {
    attachPaymentMethod(account, pm.id, customer);
  }
  if (threeDSecure && pi.setup_future_usage) pmInternal(account, pm.id).setupDone = true;
  if (manual) {
    pi.status = 'requires_capture';
    pi.amount_capturable = pi.amount;
    emitEvent(account, { type: 'payment_intent.amount_capturable_updated', object: pi });
  } else {
    pi.status = 'succeeded';
    pi.amount_received = pi.amount;
    emitEvent(account, { type: 'payment_intent.succeeded', object: pi });
  }
  return pi;
}

function fail(
  account: Account,
  pi: Stripe.PaymentIntent,
  pm: Stripe.PaymentMethod,
  failure: intents.CardFailure,
  throwOnDecline: boolean,
): Stripe.PaymentIntent {
  const customer = customerIdOf(pi.customer);
  const charge = createCharge(account, {
    amount: pi.amount,
    currency: pi.currency,
    customer,
    paymentMethod: pm,
    paymentIntent: pi.id,
    description: pi.description,
    metadata: pi.metadata,
    capture: true,
    failure,
  });
  pi.latest_charge = charge.id;
  pi.status = 'requires_payment_method';
  pi.payment_method = null;
  pi.next_action = null;
  pi.last_payment_error = intents.lastCardError(failure, pm, charge.id);
  emitEvent(account, { type: 'payment_intent.payment_failed', object: pi });
  if (throwOnDecline) throw intents.declineError(pi, pm, failure, charge.id);
  return pi;
}

/**
 * Completes (or fails) a pending 3-D Secure challenge / PayPal approval of a PaymentIntent, as the
 * emulator's challenge page does.
 */
export function completePaymentIntentAction(
  account: Account,
  pi: Stripe.PaymentIntent,
  succeedIt: boolean,
): Stripe.PaymentIntent {
  const pm = intents.challengedPaymentMethod(account, pi);
  const internal = piInternal(account, pi.id);
  if (!succeedIt) {
    pi.status = 'requires_payment_method';
    pi.payment_method = null;
    pi.next_action = null;
    pi.last_payment_error = {
      type: pm.type === 'paypal' ? 'invalid_request_error' : 'card_error',
      code: 'payment_intent_authentication_failure',
      doc_url: 'https://stripe.com/docs/error-codes/payment-intent-authentication-failure',
      message: AUTH_FAILED_MESSAGE,
      payment_method: structuredClone(pm),
      payment_method_type: pm.type,
    };
    emitEvent(account, { type: 'payment_intent.payment_failed', object: pi });
    return pi;
  }
  internal.authenticated = true;
  if (pm.type === 'paypal') {
    approvePaypal(account, pm);
    pi.status = 'processing';
    pi.next_action = null;
    emitEvent(account, { type: 'payment_intent.processing', object: pi });
    const settleMs = Number(account.shared.settings.asyncSettleMs ?? 0);
    account.shared.later(settleMs, () => {
      if (pi.status === 'processing') succeed(account, pi, pm, false);
    });
    return pi;
  }
  return succeed(account, pi, pm, true);
}

/**
 * BILLING's charge path: create and confirm a PaymentIntent for an invoice, off-session. Never throws
 * on declines: returns the PaymentIntent in `succeeded`, `requires_action` (3-D Secure) or
 * `requires_payment_method` with `last_payment_error`, having emitted `payment_intent.*` and `charge.*`.
 */
export function createAndConfirmPaymentIntent(
  account: Account,
  input: {
    amount: number;
    currency: string;
    customer: string;
    payment_method: string;
    off_session: boolean;
    description?: string | null;
    metadata?: Stripe.Metadata;
    invoiceId?: string | null;
  },
): Stripe.PaymentIntent {
  const pi = createPaymentIntent(account, {
    amount: input.amount,
    currency: input.currency,
    customer: input.customer,
    payment_method: input.payment_method,
    payment_method_types: ['card', 'paypal'],
    description: input.description ?? null,
    metadata: input.metadata ?? {},
  });
  piInternal(account, pi.id).invoiceId = input.invoiceId ?? null;
  return confirmPaymentIntent(account, pi, {
    offSession: input.off_session,
    throwOnDecline: false,
    forInvoice: input.invoiceId !== undefined && input.invoiceId !== null,
  });
}

/** The invoice a PaymentIntent pays (billing made it), or null. */
export function invoiceIdOfPaymentIntent(account: Account, paymentIntentId: string): string | null {
  return piInternal(account, paymentIntentId).invoiceId ?? null;
}

/**
 * BILLING's unconfirmed PaymentIntent for an invoice (`payment_behavior=default_incomplete`): the
 * client confirms it with the invoice's `confirmation_secret`; `setup_future_usage=off_session` saves
 * the card for the renewals, as Stripe does for subscription invoices.
 */
export function createInvoicePaymentIntent(
  account: Account,
  input: {
    amount: number;
    currency: string;
    customer: string;
    payment_method: string | null;
    description: string;
    invoiceId: string;
  },
): Stripe.PaymentIntent {
  const pi = createPaymentIntent(account, {
    amount: input.amount,
    currency: input.currency,
    customer: input.customer,
    payment_method: input.payment_method,
    payment_method_types: ['card'],
    description: input.description,
    metadata: {},
    setup_future_usage: 'off_session',
  });
  piInternal(account, pi.id).invoiceId = input.invoiceId;
  return pi;
}

function createFromParams(account: Account, body: FormParams): Stripe.PaymentIntent {
  const amount = reqInt(body, 'amount');
  const currency = reqString(body, 'currency');
  // 2026 API: `allowed_payment_method_types`; the older `payment_method_types` is still accepted.
  const allowed = optStringArray(body, 'allowed_payment_method_types');
  const types = allowed ?? optStringArray(body, 'payment_method_types');
  const capture = optNonEmpty(body, 'capture_method');
  if (
    capture !== undefined &&
    capture !== 'automatic' &&
    capture !== 'automatic_async' &&
    capture !== 'manual'
  ) {
    throw invalidRequest(`Invalid capture_method: ${capture}`, 'capture_method');
  }
  const sfu = optNonEmpty(body, 'setup_future_usage');
  if (sfu !== undefined && sfu !== 'off_session' && sfu !== 'on_session') {
    throw invalidRequest(`Invalid setup_future_usage: ${sfu}`, 'setup_future_usage');
  }
  const input: CreatePaymentIntentInput = {
    amount,
    currency,
    customer: optNonEmpty(body, 'customer') ?? null,
    payment_method: optNonEmpty(body, 'payment_method') ?? null,
    description: optNonEmpty(body, 'description') ?? null,
    metadata: applyMetadata({}, body),
    receipt_email: optNonEmpty(body, 'receipt_email') ?? null,
    setup_future_usage: sfu ?? null,
    statement_descriptor: optNonEmpty(body, 'statement_descriptor') ?? null,
  };
  if (types) input.payment_method_types = types;
  if (allowed) input.allowed_payment_method_types = true;
  if (capture) input.capture_method = capture;
  return createPaymentIntent(account, input);
}

function offSessionParam(body: FormParams): boolean | undefined {
  const raw = optString(body, 'off_session');
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'one_off' || raw === 'recurring') return true;
  return optBool(body, 'off_session');
}

function confirmFromParams(
  account: Account,
  pi: Stripe.PaymentIntent,
  body: FormParams,
): Stripe.PaymentIntent {
  const options: ConfirmOptions = { throwOnDecline: true };
  const pm = optNonEmpty(body, 'payment_method');
  if (pm) options.paymentMethod = pm;
  const off = offSessionParam(body);
  if (off !== undefined) options.offSession = off;
  const returnUrl = optNonEmpty(body, 'return_url');
  if (returnUrl) options.returnUrl = returnUrl;
  const errorOnRequiresAction = optBool(body, 'error_on_requires_action');
  if (errorOnRequiresAction) options.errorOnRequiresAction = true;
  const sfu = optNonEmpty(body, 'setup_future_usage');
  if (sfu === 'off_session' || sfu === 'on_session') pi.setup_future_usage = sfu;
  return confirmPaymentIntent(account, pi, options);
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  registerExpander('*', 'payment_intent', (account, id) => account.payment_intents.get(id));
  registerExpander('*', 'payment_method', (account, id) => account.payment_methods.get(id));

  router.post('/v1/payment_intents', (req) => {
    const pi = createFromParams(req.account, req.body);
    if (optBool(req.body, 'confirm')) return confirmFromParams(req.account, pi, req.body);
    return pi;
  });

  router.get('/v1/payment_intents/:id', (req) => getPaymentIntent(req.account, req.params.id ?? ''));

  router.post('/v1/payment_intents/:id', (req) => {
    const pi = getPaymentIntent(req.account, req.params.id ?? '');
    if (pi.status === 'succeeded' || pi.status === 'canceled' || pi.status === 'processing') {
      throw unexpectedState(
        `This PaymentIntent's status is ${pi.status}, so it can no longer be updated.`,
        'payment_intent_unexpected_state',
      );
    }
    const amount = optInt(req.body, 'amount');
    if (amount !== undefined) pi.amount = amount;
    const currency = optNonEmpty(req.body, 'currency');
    if (currency) pi.currency = currency.toLowerCase();
    const customer = optNonEmpty(req.body, 'customer');
    if (customer) {
      getCustomer(req.account, customer, 'customer');
      pi.customer = customer;
    }
    const description = optString(req.body, 'description');
    if (description !== undefined) pi.description = description === '' ? null : description;
    const pm = optNonEmpty(req.body, 'payment_method');
    if (pm) {
      pi.payment_method = resolvePaymentMethod(req.account, pm).id;
      pi.status = 'requires_confirmation';
    }
    const receipt = optString(req.body, 'receipt_email');
    if (receipt !== undefined) pi.receipt_email = receipt === '' ? null : receipt;
    pi.metadata = applyMetadata(pi.metadata, req.body);
    return pi;
  });

  router.post('/v1/payment_intents/:id/confirm', (req) =>
    confirmFromParams(req.account, getPaymentIntent(req.account, req.params.id ?? ''), req.body),
  );

  router.post('/v1/payment_intents/:id/capture', (req) => {
    const pi = getPaymentIntent(req.account, req.params.id ?? '');
    if (pi.status !== 'requires_capture') {
      throw unexpectedState(
        `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
        'payment_intent_unexpected_state',
      );
    }
    const amount = optInt(req.body, 'amount_to_capture') ?? pi.amount_capturable;
    if (amount > pi.amount_capturable || amount < 1) {
      throw invalidRequest(
        'The amount to capture must be between 1 and the amount capturable.',
        'amount_to_capture',
      );
    }
    const chargeId = typeof pi.latest_charge === 'string' ? pi.latest_charge : pi.latest_charge?.id;
    const charge = chargeId ? req.account.charges.get(chargeId) : undefined;
    if (charge) captureCharge(req.account, charge, amount);
    pi.amount_received = amount;
    pi.amount_capturable = 0;
    pi.status = 'succeeded';
    emitEvent(req.account, { type: 'payment_intent.succeeded', object: pi });
    return pi;
  });

  router.post('/v1/payment_intents/:id/cancel', (req) => {
    const pi = getPaymentIntent(req.account, req.params.id ?? '');
    if (pi.status === 'succeeded' || pi.status === 'canceled' || pi.status === 'processing') {
      throw unexpectedState(
        `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action.`,
        'payment_intent_unexpected_state',
      );
    }
    const reason = optNonEmpty(req.body, 'cancellation_reason');
    const allowed = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'];
    if (reason !== undefined && !allowed.includes(reason)) {
      throw invalidRequest(
        `Invalid cancellation_reason: must be one of ${allowed.join(', ')}`,
        'cancellation_reason',
      );
    }
    if (pi.status === 'requires_capture') {
      const chargeId = typeof pi.latest_charge === 'string' ? pi.latest_charge : pi.latest_charge?.id;
      const charge = chargeId ? req.account.charges.get(chargeId) : undefined;
      if (charge) {
        charge.refunded = true;
        charge.amount_refunded = charge.amount;
      }
      pi.amount_capturable = 0;
    }
    pi.status = 'canceled';
    pi.canceled_at = nowFor(req.account, customerIdOf(pi.customer));
    pi.cancellation_reason = reason ?? null;
    pi.next_action = null;
    emitEvent(req.account, { type: 'payment_intent.canceled', object: pi });
    return pi;
  });

  router.get('/v1/payment_intents', (req) => {
    const customer = optNonEmpty(req.query, 'customer');
    return paginate(req.account.payment_intents.values(), req.query, '/v1/payment_intents', {
      filter: (pi) => customer === undefined || customerIdOf(pi.customer as string | null) === customer,
    });
  });
}
