import type Stripe from 'stripe';
import { emitEvent } from '../core/events.js';
import { newId } from '../core/ids.js';
import type { Account } from '../core/state.js';
import type { CardBehavior } from '../core/test-cards.js';
import { type StripeApiError, cardError, invalidRequest, unexpectedState } from '../http/errors.js';
import { resolvePaymentMethod, testCardOf } from './payment-methods.js';

/**
 * What confirming a PaymentIntent and a SetupIntent have in common: the confirmable statuses, finding
 * the payment method to confirm with, the 3-D Secure `next_action`, the precondition of completing a
 * challenge, a test card's behavior and the card error of a decline. What differs between the two
 * (owner check, what each test card behavior leads to, charges, success and failure events) stays in
 * `payment-intents.ts` and `setup-intents.ts`.
 */
export type Intent = Stripe.PaymentIntent | Stripe.SetupIntent;

const NAME: Readonly<Record<Intent['object'], string>> = {
  payment_intent: 'PaymentIntent',
  setup_intent: 'SetupIntent',
};

const MISSING_PAYMENT_METHOD: Readonly<Record<Intent['object'], string>> = {
  payment_intent:
    "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
  setup_intent:
    "You cannot confirm this SetupIntent because it's missing a payment method. Update the SetupIntent with a payment method and then confirm it again.",
};

const CONFIRMABLE: ReadonlySet<string> = new Set([
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
]);

/** The id of the intent's current payment method (expanded or not), if it has one. */
export function intentPaymentMethodId(intent: Intent): string | undefined {
  return typeof intent.payment_method === 'string' ? intent.payment_method : intent.payment_method?.id;
}

/**
 * Checks that the intent may be confirmed and resolves the payment method to confirm it with
 * (`paymentMethod` if given, else the intent's own): 400 `*_unexpected_state` otherwise.
 */
export function confirmingPaymentMethod(
  account: Account,
  intent: Intent,
  paymentMethod: string | null | undefined,
): Stripe.PaymentMethod {
  const name = NAME[intent.object];
  if (!CONFIRMABLE.has(intent.status)) {
    throw unexpectedState(
      `You cannot confirm this ${name} because it has a status of ${intent.status}. Only a ${name} with one of the following statuses may be confirmed: requires_confirmation, requires_action, requires_payment_method.`,
      `${intent.object}_unexpected_state`,
      { [intent.object]: structuredClone(intent) },
    );
  }
  const ref = paymentMethod ?? intentPaymentMethodId(intent);
  if (!ref) {
    throw invalidRequest(
      MISSING_PAYMENT_METHOD[intent.object],
      'payment_method',
      `${intent.object}_unexpected_state`,
    );
  }
  return resolvePaymentMethod(account, ref);
}

/**
 * Puts the intent in `requires_action` with the emulator's 3-D Secure (or PayPal approval) page as
 * `next_action` (a redirect when there is a return URL) and emits `*.requires_action`.
 */
export function requireAction<T extends Intent>(
  account: Account,
  intent: T,
  returnUrl: string | null | undefined,
): T {
  const target: Intent = intent;
  const url = `${account.shared.baseUrl}/_emulator/3ds/${target.id}`;
  target.status = 'requires_action';
  target.next_action = returnUrl
    ? { type: 'redirect_to_url', redirect_to_url: { return_url: returnUrl, url } }
    : {
        type: 'use_stripe_sdk',
        use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: url, source: newId('src') },
      };
  emitEvent(account, { type: `${target.object}.requires_action`, object: target });
  return intent;
}

/**
 * Checks that the intent has a challenge to complete (`requires_action`) and returns its payment
 * method: 400 `*_unexpected_state` otherwise.
 */
export function challengedPaymentMethod(account: Account, intent: Intent): Stripe.PaymentMethod {
  if (intent.status !== 'requires_action') {
    const name = NAME[intent.object];
    throw unexpectedState(
      `This ${name} has a status of ${intent.status}; only a ${name} in requires_action has a challenge to complete.`,
      `${intent.object}_unexpected_state`,
    );
  }
  return resolvePaymentMethod(account, intentPaymentMethodId(intent) ?? '');
}

/** What the payment method's test card does (`success` for anything that is not a test card). */
export function cardBehaviorOf(account: Account, pm: Stripe.PaymentMethod): CardBehavior {
  return testCardOf(account, pm)?.behavior ?? { kind: 'success' };
}

/** A declined card: the error's `code`, `decline_code` and message. */
export interface CardFailure {
  code: string;
  declineCode: string;
  message: string;
}

/**
 * The intent's `last_payment_error` / `last_setup_error` for a declined card (`charge`: the failed
 * charge of a PaymentIntent; a SetupIntent has none).
 */
export function lastCardError(
  failure: CardFailure,
  pm: Stripe.PaymentMethod,
  charge?: string,
): Stripe.PaymentIntent.LastPaymentError {
  return {
    type: 'card_error',
    ...(charge === undefined ? {} : { charge }),
    code: failure.code,
    decline_code: failure.declineCode,
    doc_url: `https://stripe.com/docs/error-codes/${failure.code.replace(/_/g, '-')}`,
    message: failure.message,
    payment_method: structuredClone(pm),
    payment_method_type: pm.type,
  };
}

/** The 402 card error a declined confirmation throws (with the charge, the intent and the payment method). */
export function declineError(
  intent: Intent,
  pm: Stripe.PaymentMethod,
  failure: CardFailure,
  charge?: string,
): StripeApiError {
  return cardError({
    code: failure.code,
    declineCode: failure.declineCode,
    message: failure.message,
    extra: {
      ...(charge === undefined ? {} : { charge }),
      [intent.object]: structuredClone(intent),
      payment_method: structuredClone(pm),
    },
  });
}
