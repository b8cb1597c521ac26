/**
 * Wires the billing engine to the emulator: the payments port onto CORE's payment functions, the
 * runtime (dunning policy, base URL) and the billing admin endpoint. Every billing resource module
 * calls `installBilling(ctx)` in its `register`; the work is done once per emulator.
 */
import type Stripe from 'stripe';
import type { EmulatorContext } from '../../core/context.js';
import type { Account } from '../../core/state.js';
import { invalidRequest } from '../../http/errors.js';
import { realNow } from '../../core/time.js';
import { optNonEmpty } from '../../http/form.js';
import { attachPaymentMethod } from '../../resources/payment-methods.js';
import {
  confirmPaymentIntent,
  createAndConfirmPaymentIntent,
  createInvoicePaymentIntent,
  createPaymentIntent,
  invoiceIdOfPaymentIntent,
  resolvePaymentMethod,
} from '../../resources/payment-intents.js';
import { RetryPolicyError, parseRetryPolicy } from '../dunning.js';
import { catchUpRealTime } from './clock.js';
import { recordFailedInvoicePaymentIntent, settleInvoicePaymentIntent } from './invoicing.js';
import { type ChargeResult, type PaymentsPort, setPaymentsPort } from './payments.js';
import { getRetryPolicy, installRuntime, setRetryPolicy } from './runtime.js';
import { createSucceededSetupIntent } from './setup-adapter.js';

function outcomeOf(pi: Stripe.PaymentIntent): ChargeResult {
  const outcome: ChargeResult['outcome'] =
    pi.status === 'succeeded'
      ? 'succeeded'
      : pi.status === 'requires_action'
        ? 'requires_action'
        : pi.status === 'processing'
          ? 'processing'
          : 'failed';
  const error = pi.last_payment_error;
  return {
    paymentIntent: pi,
    outcome,
    failure:
      outcome === 'failed'
        ? {
            code: error?.code,
            declineCode: error?.decline_code,
            message: error?.message ?? 'Your card was declined.',
            type: error?.type ?? 'card_error',
          }
        : null,
  };
}

export const corePayments: PaymentsPort = {
  resolvePaymentMethod(
    account: Account,
    idOrShortcut: string,
    customer: string | null,
    param: string,
  ): Stripe.PaymentMethod {
    const pm = resolvePaymentMethod(account, idOrShortcut, param);
    if (!customer) return pm;
    const owner = typeof pm.customer === 'string' ? pm.customer : (pm.customer?.id ?? null);
    if (owner === customer) return pm;
    if (owner)
      throw invalidRequest(`The payment method ${pm.id} does not belong to customer ${customer}.`, param);
    return attachPaymentMethod(account, pm.id, customer, param);
  },
  charge(account, request) {
    if (request.customer) {
      return outcomeOf(
        createAndConfirmPaymentIntent(account, {
          amount: request.amount,
          currency: request.currency,
          customer: request.customer,
          payment_method: request.paymentMethod,
          off_session: request.offSession,
          description: request.description,
          metadata: request.metadata,
          invoiceId: request.invoiceId,
        }),
      );
    }
    const pi = createPaymentIntent(account, {
      amount: request.amount,
      currency: request.currency,
      customer: null,
      payment_method: request.paymentMethod,
      payment_method_types: ['card'],
      description: request.description,
      metadata: request.metadata,
    });
    return outcomeOf(confirmPaymentIntent(account, pi, { offSession: false, throwOnDecline: false }));
  },
  openForInvoice(account, request) {
    return createInvoicePaymentIntent(account, {
      amount: request.amount,
      currency: request.currency,
      customer: request.customer,
      payment_method: request.paymentMethod,
      description: request.description,
      invoiceId: request.invoiceId,
    });
  },
  invoiceOf: invoiceIdOfPaymentIntent,
  createSucceededSetupIntent,
};

const installed = new WeakSet<EmulatorContext>();

export function installBilling(ctx: EmulatorContext): void {
  setPaymentsPort(corePayments);
  installRuntime(ctx);
  if (installed.has(ctx)) return;
  installed.add(ctx);
  // Real-time subscriptions (no test clock) advance on their own, once a second.
  const ticker = setInterval(() => {
    const now = realNow();
    for (const account of ctx.state.accounts.values()) {
      try {
        catchUpRealTime(account, now);
      } catch (err) {
        process.stderr.write(`[stripe-emulator] billing catch-up failed: ${String(err)}\n`);
      }
    }
  }, 1000);
  ticker.unref();
  ctx.onClose(() => clearInterval(ticker));
  // An invoice's PaymentIntent that succeeds outside a billing attempt (confirmed by the client after
  // default_incomplete, or 3-D Secure completed on the page) pays its invoice, as at Stripe.
  // A declined client confirmation counts as a failed attempt of the invoice.
  const unsubscribe = ctx.state.onEvent((account, event) => {
    if (event.type !== 'payment_intent.succeeded' && event.type !== 'payment_intent.payment_failed') return;
    const id = (event.data.object as { id: string }).id;
    try {
      if (event.type === 'payment_intent.succeeded') settleInvoicePaymentIntent(account, id);
      else recordFailedInvoicePaymentIntent(account, id);
    } catch (err) {
      process.stderr.write(`[stripe-emulator] settling an invoice payment failed: ${String(err)}\n`);
    }
  });
  ctx.onClose(unsubscribe);
  // Dunning knobs: GET shows them, POST sets `retry_days` ("0,3,5") and `final_status`
  // (past_due | unpaid | canceled), for every account or for one (`api_key`).
  ctx.pages.get('/_emulator/billing/settings', (req) => {
    const key = optNonEmpty(req.query, 'api_key');
    return { object: 'emulator.billing_settings', api_key: key ?? null, ...snake(getRetryPolicy(ctx, key)) };
  });
  ctx.pages.post('/_emulator/billing/settings', (req) => {
    const key = optNonEmpty(req.body, 'api_key');
    const current = getRetryPolicy(ctx, key);
    try {
      const policy = parseRetryPolicy(
        optNonEmpty(req.body, 'retry_days'),
        optNonEmpty(req.body, 'final_status'),
        current,
      );
      setRetryPolicy(ctx, policy, key);
      return { object: 'emulator.billing_settings', api_key: key ?? null, ...snake(policy) };
    } catch (err) {
      if (err instanceof RetryPolicyError) throw invalidRequest(err.message);
      throw err;
    }
  });
}

function snake(policy: { attemptDays: readonly number[]; finalStatus: string }): {
  retry_days: number[];
  final_status: string;
} {
  return { retry_days: [...policy.attemptDays], final_status: policy.finalStatus };
}
