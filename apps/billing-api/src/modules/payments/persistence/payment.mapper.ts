import type {
  PaymentStatusChangeView,
  PaymentView,
  SavedPaymentMethodView,
} from '../contracts/payment.view.js';
import type { PaymentMethodOrmEntity } from './payment-method.orm-entity.js';
import type { PaymentStatusHistoryOrmEntity } from './payment-status-history.orm-entity.js';
import type { PaymentOrmEntity } from './payment.orm-entity.js';

export function toPaymentView(row: PaymentOrmEntity): PaymentView {
  return {
    id: row.id,
    accountId: row.accountId,
    stripePaymentIntentId: row.stripePaymentIntentId,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    amountReceived: row.amountReceived,
    amountRefunded: row.amountRefunded,
    fee: row.fee,
    net: row.net,
    description: row.description,
    orderReference: row.orderReference,
    metadata: row.metadata,
    paymentMethod: {
      stripePaymentMethodId: row.stripePaymentMethodId,
      type: row.paymentMethodType,
      brand: row.cardBrand,
      last4: row.cardLast4,
      expMonth: row.cardExpMonth,
      expYear: row.cardExpYear,
      funding: row.cardFunding,
    },
    failureCode: row.failureCode,
    declineCode: row.declineCode,
    failureMessage: row.failureMessage,
    latestChargeId: row.latestChargeId,
    checkoutSessionId: row.checkoutSessionId,
    origin: row.origin,
    succeededAt: row.succeededAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toStatusChangeView(row: PaymentStatusHistoryOrmEntity): PaymentStatusChangeView {
  return {
    fromStatus: row.fromStatus,
    toStatus: row.toStatus,
    cause: { type: row.causeType, id: row.causeId },
    declineCode: row.declineCode,
    at: row.at.toISOString(),
  };
}

export function toSavedPaymentMethodView(row: PaymentMethodOrmEntity): SavedPaymentMethodView {
  return {
    id: row.id,
    stripePaymentMethodId: row.stripePaymentMethodId,
    accountId: row.accountId,
    type: row.type,
    brand: row.cardBrand,
    last4: row.cardLast4,
    expMonth: row.cardExpMonth,
    expYear: row.cardExpYear,
    funding: row.cardFunding,
    status: row.status,
    attachedAt: row.attachedAt?.toISOString() ?? null,
    detachedAt: row.detachedAt?.toISOString() ?? null,
  };
}
