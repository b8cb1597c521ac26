import {
  balanceTransactionIdOf,
  balanceValuesOf,
  type BalanceValues,
} from '../../../platform/stripe/balance-transaction.js';
import type Stripe from 'stripe';
import { idOf, minorUnits, requiredString } from '../webhooks/stripe-payload.js';
import type { PaymentMethodSummary } from './transform-stripe-payment-method.js';

/** `charge.succeeded` / `charge.failed` / `charge.refunded`: what the payment mirror takes from a charge. */
export interface ChargeValues {
  stripeChargeId: string;
  stripePaymentIntentId: string | null;
  stripeCustomerId: string | null;
  stripePaymentMethodId: string | null;
  /** The method used, from `payment_method_details` (cards only carry brand, last 4, expiry, funding). */
  paymentMethod: PaymentMethodSummary | null;
  status: string;
  amountCaptured: number;
  amountRefunded: number;
  failureCode: string | null;
  failureMessage: string | null;
  /** The charge's balance transaction: its id (webhooks), and its values when expanded. */
  balanceTransactionId: string | null;
  balance: BalanceValues | null;
  /** Refunds when the payload lists them (`refunds` is only included when expanded). */
  refunds: Stripe.Refund[];
}

export function transformStripeCharge(charge: Stripe.Charge): ChargeValues {
  const details = charge.payment_method_details ?? null;
  const card = details?.card ?? null;
  return {
    stripeChargeId: requiredString(charge.id, 'charge.id'),
    stripePaymentIntentId: idOf(charge.payment_intent),
    stripeCustomerId: idOf(charge.customer),
    stripePaymentMethodId: idOf(charge.payment_method),
    paymentMethod: details
      ? {
          type: details.type,
          cardBrand: card?.brand ?? null,
          cardLast4: card?.last4 ?? null,
          cardExpMonth: card?.exp_month ?? null,
          cardExpYear: card?.exp_year ?? null,
          cardFunding: card?.funding ?? null,
        }
      : null,
    status: charge.status,
    amountCaptured: minorUnits(charge.amount_captured ?? 0, 'charge.amount_captured'),
    amountRefunded: minorUnits(charge.amount_refunded ?? 0, 'charge.amount_refunded'),
    failureCode: charge.failure_code ?? null,
    failureMessage: charge.failure_message ?? null,
    balanceTransactionId: balanceTransactionIdOf(charge.balance_transaction),
    balance: balanceValuesOf(charge.balance_transaction),
    refunds: charge.refunds?.data ?? [],
  };
}
