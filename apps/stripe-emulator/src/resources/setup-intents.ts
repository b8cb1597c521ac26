import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { emitEvent } from '../core/events.js';
import { clientSecret, newId } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { nowFor } from '../core/time.js';
import { invalidRequest, resourceMissing, unexpectedState } from '../http/errors.js';
import {
  type FormParams,
  applyMetadata,
  optNonEmpty,
  optStringArray,
  optBool,
  optString,
} from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { getCustomer } from './customers.js';
import * as intents from './intent-confirmation.js';
import {
  approvePaypal,
  attachPaymentMethod,
  customerIdOf,
  pmInternal,
  resolvePaymentMethod,
} from './payment-methods.js';

interface SetupIntentInternal {
  returnUrl?: string | null;
}

function siInternal(account: Account, id: string): SetupIntentInternal {
  return account.internalOf(id);
}

export function getSetupIntent(account: Account, id: string, param = 'id'): Stripe.SetupIntent {
  const si = account.setup_intents.get(id);
  if (!si) throw resourceMissing('setup_intent', id, param);
  return si;
}

export interface CreateSetupIntentInput {
  customer?: string | null;
  payment_method?: string | null;
  payment_method_types?: string[];
  usage?: 'off_session' | 'on_session';
  description?: string | null;
  metadata?: Stripe.Metadata;
}

/** Creates a SetupIntent and emits `setup_intent.created` (checkout's setup mode uses it too). */
export function createSetupIntent(account: Account, input: CreateSetupIntentInput): Stripe.SetupIntent {
  const customer = input.customer ?? null;
  if (customer) getCustomer(account, customer, 'customer');
  const pm = input.payment_method ? resolvePaymentMethod(account, input.payment_method) : null;
  const automatic = input.payment_method_types === undefined;
  const id = newId('seti');
  const si: Stripe.SetupIntent = {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: null,
    application: null,
    automatic_payment_methods: automatic ? { allow_redirects: 'always', enabled: true } : null,
    cancellation_reason: null,
    client_secret: clientSecret(id),
    created: nowFor(account, customer),
    customer,
    customer_account: null,
    description: input.description ?? null,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: input.metadata ?? {},
    next_action: null,
    on_behalf_of: null,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: automatic ? { id: 'pmc_emulator_default', parent: null } : null,
    payment_method_options: {
      card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types: input.payment_method_types ?? ['card', 'paypal'],
    single_use_mandate: null,
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    usage: input.usage ?? 'off_session',
  };
  account.setup_intents.set(id, si);
  emitEvent(account, { type: 'setup_intent.created', object: si });
  return si;
}

/** Confirms a SetupIntent: succeeds (attaching the method), requires 3-D Secure, or fails with a card error. */
export function confirmSetupIntent(
  account: Account,
  si: Stripe.SetupIntent,
  options: { paymentMethod?: string | null; returnUrl?: string | null; throwOnDecline?: boolean } = {},
): Stripe.SetupIntent {
  const pm = intents.confirmingPaymentMethod(account, si, options.paymentMethod);
  const customer = customerIdOf(si.customer);
  const owner = customerIdOf(pm.customer);
  if (owner && customer && owner !== customer) {
    throw invalidRequest(
      'The provided PaymentMethod belongs to a different Customer than the SetupIntent.',
      'payment_method',
    );
  }
  si.payment_method = pm.id;
  si.last_setup_error = null;
  si.next_action = null;
  const internal = siInternal(account, si.id);
  if (options.returnUrl !== undefined) internal.returnUrl = options.returnUrl;

  if (pm.type === 'paypal') {
    if (pmInternal(account, pm.id).paypalApproved) return succeedSetup(account, si, pm);
    return intents.requireAction(account, si, internal.returnUrl);
  }
  const behavior = intents.cardBehaviorOf(account, pm);
  switch (behavior.kind) {
    case 'decline': {
      si.status = 'requires_payment_method';
      si.payment_method = null;
      si.last_setup_error = intents.lastCardError(behavior, pm);
      emitEvent(account, { type: 'setup_intent.setup_failed', object: si });
      if (options.throwOnDecline ?? true) throw intents.declineError(si, pm, behavior);
      return si;
    }
    case 'auth_always':
    case 'auth_on_setup':
      return intents.requireAction(account, si, internal.returnUrl);
    case 'success':
    case 'charge_fail':
    case 'refund_fail':
      return succeedSetup(account, si, pm);
  }
}

function succeedSetup(
  account: Account,
  si: Stripe.SetupIntent,
  pm: Stripe.PaymentMethod,
): Stripe.SetupIntent {
  const customer = customerIdOf(si.customer);
  if (customer && !pm.customer) attachPaymentMethod(account, pm.id, customer);
  pmInternal(account, pm.id).setupDone = true;
  si.status = 'succeeded';
  si.next_action = null;
  si.latest_attempt = newId('setatt');
  emitEvent(account, { type: 'setup_intent.succeeded', object: si });
  return si;
}

/** Completes or fails a pending 3-D Secure challenge / PayPal approval of a SetupIntent. */
export function completeSetupIntentAction(
  account: Account,
  si: Stripe.SetupIntent,
  succeedIt: boolean,
): Stripe.SetupIntent {
  const pm = intents.challengedPaymentMethod(account, si);
  if (!succeedIt) {
    si.status = 'requires_payment_method';
    si.payment_method = null;
    si.next_action = null;
    si.last_setup_error = {
      type: 'invalid_request_error',
      code: 'setup_intent_authentication_failure',
      doc_url: 'https://stripe.com/docs/error-codes/setup-intent-authentication-failure',
      message:
        'The latest attempt to set up the payment method has failed because authentication failed. Provide a new payment method to attempt to set it up again.',
      payment_method: structuredClone(pm),
      payment_method_type: pm.type,
    };
    emitEvent(account, { type: 'setup_intent.setup_failed', object: si });
    return si;
  }
  if (pm.type === 'paypal') approvePaypal(account, pm);
  return succeedSetup(account, si, pm);
}

function confirmParams(body: FormParams): { paymentMethod?: string; returnUrl?: string } {
  const out: { paymentMethod?: string; returnUrl?: string } = {};
  const pm = optNonEmpty(body, 'payment_method');
  if (pm) out.paymentMethod = pm;
  const returnUrl = optNonEmpty(body, 'return_url');
  if (returnUrl) out.returnUrl = returnUrl;
  return out;
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  router.post('/v1/setup_intents', (req) => {
    const usage = optNonEmpty(req.body, 'usage');
    if (usage !== undefined && usage !== 'off_session' && usage !== 'on_session') {
      throw invalidRequest(`Invalid usage: ${usage}`, 'usage');
    }
    const input: CreateSetupIntentInput = {
      customer: optNonEmpty(req.body, 'customer') ?? null,
      payment_method: optNonEmpty(req.body, 'payment_method') ?? null,
      description: optNonEmpty(req.body, 'description') ?? null,
      metadata: applyMetadata({}, req.body),
    };
    if (usage) input.usage = usage;
    const types =
      optStringArray(req.body, 'allowed_payment_method_types') ??
      optStringArray(req.body, 'payment_method_types');
    if (types) input.payment_method_types = types;
    const si = createSetupIntent(req.account, input);
    if (optBool(req.body, 'confirm')) return confirmSetupIntent(req.account, si, confirmParams(req.body));
    return si;
  });

  router.get('/v1/setup_intents/:id', (req) => getSetupIntent(req.account, req.params.id ?? ''));

  router.post('/v1/setup_intents/:id', (req) => {
    const si = getSetupIntent(req.account, req.params.id ?? '');
    if (si.status === 'succeeded' || si.status === 'canceled') {
      throw unexpectedState(
        `This SetupIntent's status is ${si.status}, so it can no longer be updated.`,
        'setup_intent_unexpected_state',
      );
    }
    const pm = optNonEmpty(req.body, 'payment_method');
    if (pm) {
      si.payment_method = resolvePaymentMethod(req.account, pm).id;
      si.status = 'requires_confirmation';
    }
    const customer = optNonEmpty(req.body, 'customer');
    if (customer) {
      getCustomer(req.account, customer, 'customer');
      si.customer = customer;
    }
    const description = optString(req.body, 'description');
    if (description !== undefined) si.description = description === '' ? null : description;
    si.metadata = applyMetadata(si.metadata ?? {}, req.body);
    return si;
  });

  router.post('/v1/setup_intents/:id/confirm', (req) =>
    confirmSetupIntent(
      req.account,
      getSetupIntent(req.account, req.params.id ?? ''),
      confirmParams(req.body),
    ),
  );

  router.post('/v1/setup_intents/:id/cancel', (req) => {
    const si = getSetupIntent(req.account, req.params.id ?? '');
    if (si.status === 'succeeded' || si.status === 'canceled' || si.status === 'processing') {
      throw unexpectedState(
        `You cannot cancel this SetupIntent because it has a status of ${si.status}.`,
        'setup_intent_unexpected_state',
      );
    }
    const reason = optNonEmpty(req.body, 'cancellation_reason');
    si.status = 'canceled';
    si.cancellation_reason = reason ?? null;
    si.next_action = null;
    emitEvent(req.account, { type: 'setup_intent.canceled', object: si });
    return si;
  });

  router.get('/v1/setup_intents', (req) => {
    const customer = optNonEmpty(req.query, 'customer');
    const pm = optNonEmpty(req.query, 'payment_method');
    return paginate(req.account.setup_intents.values(), req.query, '/v1/setup_intents', {
      filter: (si) =>
        (customer === undefined || customerIdOf(si.customer as string | null) === customer) &&
        (pm === undefined || si.payment_method === pm),
    });
  });
}
