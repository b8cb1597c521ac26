import { balanceValuesOf, type BalanceValues } from '../../../platform/stripe/balance-transaction.js';
import type { NextActionView } from '../contracts/payment.view.js';
import {
  mapStripePaymentIntentStatus,
  type PaymentInput,
  type PaymentStatus,
  type StripePaymentIntentStatus,
} from '@billing/domain';
import type Stripe from 'stripe';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import { uuidOrNull } from '../../../platform/validation/uuid.js';
import {
  currencyOf,
  dateOf,
  idOf,
  metadataValue,
  minorUnits,
  requiredString,
  stringMetadata,
} from '../webhooks/stripe-payload.js';
import { summarizePaymentMethod, type PaymentMethodSummary } from './transform-stripe-payment-method.js';

const PI_STATUSES: readonly string[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'canceled',
  'succeeded',
] satisfies StripePaymentIntentStatus[];

/** A PaymentIntent as the payments mirror needs it. */
export interface PaymentIntentValues {
  stripePaymentIntentId: string;
  stripeCustomerId: string | null;
  amount: number;
  amountReceived: number;
  currency: string;
  /** The payment status Stripe's status maps to (domain `mapStripePaymentIntentStatus`). */
  status: PaymentStatus;
  description: string | null;
  orderReference: string | null;
  metadata: Record<string, string>;
  /** Our payment id when the app created the PaymentIntent (`metadata.payment_id`). */
  appPaymentId: string | null;
  /** `metadata.account_id` when set by the app. */
  metadataAccountId: string | null;
  stripePaymentMethodId: string | null;
  /** Only when the payload carries the method itself (e.g. in `last_payment_error`). */
  paymentMethod: PaymentMethodSummary | null;
  failureCode: string | null;
  declineCode: string | null;
  failureMessage: string | null;
  latestChargeId: string | null;
  /** The latest charge's balance transaction, only when the caller expanded it (never in a webhook). */
  balance: BalanceValues | null;
  stripeCreatedAt: Date | null;
}

/** `payment_intent.*` payload (or a re-read PaymentIntent) -> mirror values. */
export function transformStripePaymentIntent(pi: Stripe.PaymentIntent): PaymentIntentValues {
  if (!PI_STATUSES.includes(pi.status)) {
    throw new PermanentEventError(`unknown PaymentIntent status '${pi.status}'`, 'malformed_payload');
  }
  const error = pi.last_payment_error ?? null;
  const errorMethod = error?.payment_method ?? null;
  const status = mapStripePaymentIntentStatus({
    status: pi.status as StripePaymentIntentStatus,
    hasLastPaymentError: error !== null,
  });
  const failed = status === 'failed';
  const appPaymentId = uuidOrNull(metadataValue(pi.metadata, 'payment_id'));
  const metadataAccountId = uuidOrNull(metadataValue(pi.metadata, 'account_id'));
  return {
    stripePaymentIntentId: requiredString(pi.id, 'payment_intent.id'),
    stripeCustomerId: idOf(pi.customer),
    amount: minorUnits(pi.amount, 'payment_intent.amount'),
    amountReceived: minorUnits(pi.amount_received ?? 0, 'payment_intent.amount_received'),
    currency: currencyOf(pi.currency, 'payment_intent.currency'),
    status,
    description: pi.description ?? null,
    orderReference:
      metadataValue(pi.metadata, 'order_reference') ?? metadataValue(pi.metadata, 'orderReference'),
    // The keys the API adds to its PaymentIntents are read into their own fields, not kept as the
    // client's metadata (the payment's metadata stays what its creator gave).
    metadata: withoutKeys(stringMetadata(pi.metadata), [
      'order_reference',
      ...(appPaymentId ? ['payment_id'] : []),
      ...(metadataAccountId ? ['account_id'] : []),
    ]),
    appPaymentId,
    metadataAccountId,
    stripePaymentMethodId: idOf(pi.payment_method) ?? (errorMethod ? idOf(errorMethod) : null),
    paymentMethod:
      typeof pi.payment_method === 'object' && pi.payment_method
        ? summarizePaymentMethod(pi.payment_method)
        : errorMethod
          ? summarizePaymentMethod(errorMethod)
          : null,
    failureCode: failed ? (error?.code ?? null) : null,
    declineCode: failed ? (error?.decline_code ?? null) : null,
    failureMessage: failed ? (error?.message ?? null) : null,
    latestChargeId: idOf(pi.latest_charge),
    balance:
      typeof pi.latest_charge === 'object' && pi.latest_charge !== null
        ? balanceValuesOf(pi.latest_charge.balance_transaction)
        : null,
    stripeCreatedAt: dateOf(pi.created),
  };
}

/**
 * The payment-machine input that moves a payment to the status Stripe reports, or null when the
 * machine has no input for it (`pending`: nothing has happened yet, so there is nothing to apply).
 */
export function paymentInputForStatus(
  status: PaymentStatus,
  declineCode: string | null,
): PaymentInput | null {
  switch (status) {
    case 'requires_action':
      return { type: 'action_required' };
    case 'processing':
      return { type: 'processing_started' };
    case 'succeeded':
      return { type: 'succeeded' };
    case 'failed':
      return declineCode ? { type: 'declined', declineCode } : { type: 'declined' };
    case 'canceled':
      return { type: 'canceled' };
    case 'unknown':
      return { type: 'outcome_unknown' };
    case 'pending':
    case 'partially_refunded':
    case 'refunded':
      return null;
  }
}

function withoutKeys(metadata: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).filter(([key]) => !keys.includes(key)));
}

/** What the client needs to run the PaymentIntent's 3-D Secure challenge; null when it needs none. */
export function toNextAction(pi: Stripe.PaymentIntent): NextActionView | null {
  if (!pi.next_action || !pi.client_secret) return null;
  const sdk = pi.next_action.use_stripe_sdk as { stripe_js?: unknown } | undefined;
  return {
    type: pi.next_action.type,
    clientSecret: pi.client_secret,
    redirectUrl:
      pi.next_action.redirect_to_url?.url ?? (typeof sdk?.stripe_js === 'string' ? sdk.stripe_js : null),
  };
}
