import type Stripe from 'stripe';
import { recordBalanceTransaction } from './balance-transactions.js';
import type { EmulatorContext } from '../core/context.js';
import { emitEvent } from '../core/events.js';
import { newId, randomString } from '../core/ids.js';
import type { Account } from '../core/state.js';
import { nowFor } from '../core/time.js';
import { resourceMissing } from '../http/errors.js';
import { registerExpander } from '../http/expand.js';
import { applyMetadata, optNonEmpty } from '../http/form.js';
import { paginate } from '../http/list.js';
import type { ApiRequest, Router } from '../http/router.js';
import { customerIdOf, testCardOf } from './payment-methods.js';

export interface ChargeInput {
  amount: number;
  currency: string;
  customer: string | null;
  paymentMethod: Stripe.PaymentMethod;
  paymentIntent: string | null;
  description: string | null;
  metadata: Stripe.Metadata;
  capture: boolean;
  /** Set for a declined charge. */
  failure?: { code: string; declineCode: string; message: string };
  /** 3-D Secure was completed for this payment. */
  threeDSecure?: boolean;
  receiptEmail?: string | null;
  statementDescriptor?: string | null;
}

export function getCharge(account: Account, id: string, param = 'id'): Stripe.Charge {
  const charge = account.charges.get(id);
  if (!charge) throw resourceMissing('charge', id, param);
  return charge;
}

function paymentMethodDetails(
  account: Account,
  pm: Stripe.PaymentMethod,
  amount: number,
  threeDSecure: boolean,
): Stripe.Charge.PaymentMethodDetails {
  if (pm.type === 'paypal') {
    return {
      type: 'paypal',
      paypal: {
        country: pm.paypal?.country ?? 'US',
        payer_email: pm.paypal?.payer_email ?? 'buyer@example.com',
        payer_id: pm.paypal?.payer_id ?? null,
        payer_name: 'Test Buyer',
        seller_protection: { dispute_categories: ['product_not_received', 'fraudulent'], status: 'eligible' },
        transaction_id: randomString(17).toUpperCase(),
      },
    };
  }
  const card = pm.card;
  const test = testCardOf(account, pm);
  return {
    type: 'card',
    card: {
      amount_authorized: amount,
      authorization_code: randomString(6).toUpperCase(),
      brand: card?.brand ?? null,
      checks: {
        address_line1_check: null,
        address_postal_code_check: null,
        cvc_check: card?.checks?.cvc_check ?? null,
      },
      country: card?.country ?? null,
      electronic_commerce_indicator: threeDSecure ? '05' : null,
      exp_month: card?.exp_month ?? 12,
      exp_year: card?.exp_year ?? 2030,
      extended_authorization: { status: 'disabled' },
      fingerprint: card?.fingerprint ?? null,
      funding: card?.funding ?? test?.funding ?? null,
      incremental_authorization: { status: 'unavailable' },
      installments: null,
      last4: card?.last4 ?? null,
      mandate: null,
      multicapture: { status: 'unavailable' },
      network: card?.brand ?? null,
      network_token: { used: false },
      network_transaction_id: randomString(15),
      overcapture: { maximum_amount_capturable: amount, status: 'unavailable' },
      regulated_status: 'unregulated',
      three_d_secure: threeDSecure
        ? {
            authentication_flow: 'challenge',
            electronic_commerce_indicator: '05',
            exemption_indicator: null,
            result: 'authenticated',
            result_reason: null,
            transaction_id: randomString(8) + '-' + randomString(4),
            version: '2.2.0',
          }
        : null,
      transaction_link_id: null,
      wallet: null,
    },
  };
}

/** Creates a charge (succeeded or failed) for a payment intent and emits `charge.succeeded` / `charge.failed`. */
export function createCharge(account: Account, input: ChargeInput): Stripe.Charge {
  const failed = input.failure !== undefined;
  const charge: Stripe.Charge = {
    id: newId('ch'),
    object: 'charge',
    amount: input.amount,
    amount_captured: failed || !input.capture ? 0 : input.amount,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: { ...input.paymentMethod.billing_details },
    calculated_statement_descriptor: input.statementDescriptor ?? 'EMULATOR',
    captured: !failed && input.capture,
    created: nowFor(account, input.customer),
    currency: input.currency,
    customer: input.customer,
    description: input.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: input.failure?.code ?? null,
    failure_message: input.failure?.message ?? null,
    fraud_details: {},
    livemode: false,
    metadata: { ...input.metadata },
    on_behalf_of: null,
    outcome: failed
      ? {
          advice_code: null,
          network_advice_code: null,
          network_decline_code: null,
          network_status: 'declined_by_network',
          reason: input.failure?.declineCode ?? null,
          risk_level: 'normal',
          risk_score: 40,
          seller_message: 'The bank did not return any further details with this decline.',
          type: 'issuer_declined',
        }
      : {
          advice_code: null,
          network_advice_code: null,
          network_decline_code: null,
          network_status: 'approved_by_network',
          reason: null,
          risk_level: 'normal',
          risk_score: 20,
          seller_message: 'Payment complete.',
          type: 'authorized',
        },
    paid: !failed,
    payment_intent: input.paymentIntent,
    payment_method: input.paymentMethod.id,
    payment_method_details: paymentMethodDetails(
      account,
      input.paymentMethod,
      input.amount,
      input.threeDSecure ?? false,
    ),
    receipt_email: input.receiptEmail ?? null,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: input.statementDescriptor ?? null,
    statement_descriptor_suffix: null,
    status: failed ? 'failed' : 'succeeded',
    transfer_data: null,
    transfer_group: null,
  };
  if (charge.captured) charge.balance_transaction = chargeBalanceTransaction(account, charge);
  account.charges.set(charge.id, charge);
  emitEvent(account, { type: failed ? 'charge.failed' : 'charge.succeeded', object: charge });
  return charge;
}

/** The balance transaction of a captured charge (its captured amount, less Stripe's fee). */
function chargeBalanceTransaction(account: Account, charge: Stripe.Charge): string {
  return recordBalanceTransaction(account, {
    kind: 'charge',
    id: charge.id,
    amount: charge.amount_captured,
    currency: charge.currency,
    customer: typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? null),
    description: charge.description,
  });
}

/** Captures an uncaptured charge (manual capture). */
export function captureCharge(account: Account, charge: Stripe.Charge, amount: number): void {
  charge.captured = true;
  charge.amount_captured = amount;
  charge.balance_transaction = chargeBalanceTransaction(account, charge);
  if (amount < charge.amount) charge.amount_refunded = charge.amount - amount;
  emitEvent(account, { type: 'charge.captured', object: charge });
}

export function register(router: Router<ApiRequest>, _ctx: EmulatorContext): void {
  registerExpander('*', 'latest_charge', (account, id) => account.charges.get(id));
  registerExpander('*', 'charge', (account, id) => account.charges.get(id));

  router.get('/v1/charges/:id', (req) => getCharge(req.account, req.params.id ?? ''));

  router.post('/v1/charges/:id', (req) => {
    const charge = getCharge(req.account, req.params.id ?? '');
    charge.metadata = applyMetadata(charge.metadata, req.body);
    const description = optNonEmpty(req.body, 'description');
    if (description !== undefined) charge.description = description;
    emitEvent(req.account, { type: 'charge.updated', object: charge });
    return charge;
  });

  router.get('/v1/charges', (req) => {
    const customer = optNonEmpty(req.query, 'customer');
    const paymentIntent = optNonEmpty(req.query, 'payment_intent');
    return paginate(req.account.charges.values(), req.query, '/v1/charges', {
      filter: (c) =>
        (customer === undefined || customerIdOf(c.customer as string | null) === customer) &&
        (paymentIntent === undefined || c.payment_intent === paymentIntent),
    });
  });
}
