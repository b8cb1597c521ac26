import { Injectable } from '@nestjs/common';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { SubscriptionsFacade } from '../../../subscriptions/subscriptions.facade.js';

/** One open invoice paid by pay-outstanding. Amounts in minor units. */
export interface PaidOutstandingInvoice {
  stripeInvoiceId: string;
  status: string;
  currency: string;
  amountPaid: number;
  hostedInvoiceUrl: string | null;
}

/** What pay-outstanding did, and the subscription's state as the app knows it right after. */
export interface PayOutstandingResult {
  invoices: PaidOutstandingInvoice[];
  subscriptionState: string;
}

/**
 * Pays the subscription's open invoices (oldest first) with the account's current default payment
 * method (R-SUB-10, R-EDGE-2). Stripe is asked which invoices are open (the mirror may lag behind a
 * failed renewal); each is paid with `invoices.pay` under an idempotency key of the invoice and its
 * attempt count, so a retry of the same attempt never charges twice while a new attempt after a
 * decline is a new charge. A decline stops there (402 with Stripe's code). The subscription returns to
 * active through the `invoice.paid` webhook and the machine, like any payment in dunning (which
 * listens to that too): nothing is published here.
 */
@Injectable()
export class PayOutstandingHandler {
  constructor(
    private readonly gateway: StripeGateway,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly accounts: AccountsFacade,
    private readonly audit: AuditFacade,
  ) {}

  async execute(accountId: string): Promise<PayOutstandingResult> {
    const subscription = await this.subscriptions.currentForAccount(accountId);
    if (!subscription) {
      throw new ApiError('no_outstanding_invoice', 'The account has no subscription, so nothing to pay.');
    }
    const open = await this.gateway.call('invoice.list_open', (s) =>
      s.invoices.list({ subscription: subscription.stripeSubscriptionId, status: 'open', limit: 100 }),
    );
    const invoices = [...open.data].sort((a, b) => a.created - b.created);
    if (invoices.length === 0) {
      throw new ApiError('no_outstanding_invoice', 'The subscription has no open invoice to pay.', {
        details: { state: subscription.state },
      });
    }
    const paymentMethod = await this.accounts.defaultPaymentMethodId(accountId);
    const paid: PaidOutstandingInvoice[] = [];
    for (const invoice of invoices) {
      const id = invoice.id;
      const key = StripeGateway.idempotencyKey('invoice.pay_outstanding', id, invoice.attempt_count);
      const result = await this.gateway.call('invoice.pay_outstanding', (s) =>
        s.invoices.pay(id, paymentMethod ? { payment_method: paymentMethod } : {}, { idempotencyKey: key }),
      );
      await this.audit.record({
        accountId,
        action: 'invoice.outstanding_paid',
        entityType: 'invoice',
        entityId: id,
        before: { status: invoice.status, amountRemaining: invoice.amount_remaining },
        after: { status: result.status, amountPaid: result.amount_paid, paymentMethod },
        reason: 'pay_outstanding',
      });
      paid.push({
        stripeInvoiceId: id,
        status: result.status ?? 'open',
        currency: result.currency,
        amountPaid: result.amount_paid,
        hostedInvoiceUrl: result.hosted_invoice_url ?? null,
      });
    }
    const after = await this.subscriptions.currentForAccount(accountId);
    return { invoices: paid, subscriptionState: after?.state ?? subscription.state };
  }
}
