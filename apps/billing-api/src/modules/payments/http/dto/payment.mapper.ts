import type { PaymentView } from '../../contracts/payment.view.js';
import type { PaymentDto } from './payment.dto.js';

/** The public shape of a payment (no internal linkage such as checkout or origin). */
export function toPaymentDto(view: PaymentView): PaymentDto {
  return {
    id: view.id,
    accountId: view.accountId,
    amount: view.amount,
    currency: view.currency,
    status: view.status,
    amountReceived: view.amountReceived,
    amountRefunded: view.amountRefunded,
    fee: view.fee,
    net: view.net,
    description: view.description,
    orderReference: view.orderReference,
    metadata: view.metadata,
    paymentMethod: {
      brand: view.paymentMethod.brand,
      last4: view.paymentMethod.last4,
      expMonth: view.paymentMethod.expMonth,
      expYear: view.paymentMethod.expYear,
      funding: view.paymentMethod.funding,
      stripePaymentMethodId: view.paymentMethod.stripePaymentMethodId,
    },
    failureCode: view.failureCode,
    declineCode: view.declineCode,
    stripePaymentIntentId: view.stripePaymentIntentId,
    succeededAt: view.succeededAt,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}
