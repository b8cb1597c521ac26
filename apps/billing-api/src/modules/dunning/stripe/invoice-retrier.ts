import { Injectable, Logger } from '@nestjs/common';
import { StripeCallError } from '../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';

export type RetryOutcome = 'succeeded' | 'failed';

/**
 * Retries an unpaid invoice at Stripe: `invoices.pay` with the customer's default method, with an
 * idempotency key per (invoice, attempt), so that the same attempt made again after a crash cannot
 * charge twice (Stripe answers the first outcome again). A decline is `failed`; an invoice Stripe
 * already has paid is `succeeded`; any other error (Stripe unreachable) is thrown for the caller's
 * transaction to roll back and its job to retry with the same key.
 */
@Injectable()
export class InvoiceRetrier {
  private readonly logger = new Logger('Dunning');

  constructor(private readonly gateway: StripeGateway) {}

  async retry(stripeInvoiceId: string, attempt: string | number): Promise<RetryOutcome> {
    const key = StripeGateway.idempotencyKey('dunning.retry', stripeInvoiceId, attempt);
    try {
      const paid = await this.gateway.call('dunning.retry', (stripe) =>
        stripe.invoices.pay(stripeInvoiceId, { off_session: true }, { idempotencyKey: key }),
      );
      return paid.status === 'paid' ? 'succeeded' : 'failed';
    } catch (error) {
      if (!(error instanceof StripeCallError)) throw error;
      if (error.kind === 'card' || error.kind === 'authentication_required') return 'failed';
      if (error.kind !== 'invalid_request') throw error;
      const invoice = await this.gateway.call('dunning.retry.reread', (stripe) =>
        stripe.invoices.retrieve(stripeInvoiceId),
      );
      if (invoice.status === 'paid') return 'succeeded';
      this.logger.warn(
        { stripeInvoiceId, status: invoice.status, code: error.detail.stripeCode },
        'dunning retry refused by Stripe',
      );
      return 'failed';
    }
  }
}
