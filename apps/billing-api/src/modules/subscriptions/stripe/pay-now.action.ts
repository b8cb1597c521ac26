import type { DomainRejection } from '@billing/domain';
import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../../../platform/http/api-error.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';

/** The endpoint that pays the open invoice with the default method (R-SUB-10). */
export const PAY_OUTSTANDING_PATH = '/v1/subscription/pay-outstanding';

/**
 * The pay-now action of an `outstanding_balance` refusal (R-SUB-10): the endpoint that pays the open
 * invoice with the current default method, and Stripe's hosted page of that invoice when Stripe gives
 * one (read best-effort: the refusal stands without it).
 */
@Injectable()
export class PayNowAction {
  private readonly logger = new Logger('Subscriptions');

  constructor(private readonly gateway: StripeGateway) {}

  async outstandingBalance(rejection: DomainRejection, latestInvoiceId: string | null): Promise<ApiError> {
    let hostedInvoiceUrl: string | null = null;
    if (latestInvoiceId) {
      try {
        const invoice = await this.gateway.call('invoice.retrieve', (s) =>
          s.invoices.retrieve(latestInvoiceId),
        );
        hostedInvoiceUrl = invoice.status === 'open' ? (invoice.hosted_invoice_url ?? null) : null;
      } catch (error) {
        this.logger.warn({ msg: 'pay-now invoice not read', latestInvoiceId, error: String(error) });
      }
    }
    return new ApiError(rejection.code, rejection.message, {
      details: {
        ...rejection.details,
        payNow: { method: 'POST', path: PAY_OUTSTANDING_PATH, hostedInvoiceUrl },
      },
    });
  }
}
