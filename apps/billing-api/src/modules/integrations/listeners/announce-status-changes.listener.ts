import type { PaymentStatus } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StatementPart } from '../../../platform/database/row-sql.js';
import {
  OnDomainEvent,
  OnDomainEventInStatement,
  type DomainEvent,
} from '../../../platform/events/domain-event.js';
import type { PaymentStatusChanged } from '../../payments/contracts/payment.events.js';
import type { RefundStatus } from '../../refunds/contracts/refund.events.js';
import type { IntegrationEventType } from '../contracts/integration-event.js';
import { IntegrationsFacade } from '../integrations.facade.js';

/**
 * The outbound integration event of each status a payment moves to (seed 002); null where an integrator
 * has nothing to act on. `pending` is our row before Stripe was asked (nothing happened yet); `unknown`
 * means Stripe's answer was lost, not that the payment changed: the janitor re-reads it and the settled
 * status is announced then. Exhaustive, so a new status does not compile until it is decided here.
 */
export const PAYMENT_EVENT_TYPES = {
  pending: null,
  requires_action: 'payment.requires_action',
  processing: 'payment.processing',
  succeeded: 'payment.succeeded',
  failed: 'payment.failed',
  canceled: 'payment.canceled',
  partially_refunded: 'payment.partially_refunded',
  refunded: 'payment.refunded',
  unknown: null,
} as const satisfies Record<PaymentStatus, IntegrationEventType | null>;

/**
 * The outbound integration event of each status a refund moves to; null for `pending`, where a refund
 * starts (nothing happened yet). A refund reaches each status at most once, so the event is keyed by
 * refund and status. Exhaustive: a new status does not compile until it is decided here.
 */
export const REFUND_EVENT_TYPES = {
  pending: null,
  requires_action: 'refund.requires_action',
  succeeded: 'refund.succeeded',
  failed: 'refund.failed',
  canceled: 'refund.canceled',
} as const satisfies Record<RefundStatus, IntegrationEventType | null>;

/** The integration event of a payment's status change (null: none for that status). */
export function paymentIntegrationEvent(p: PaymentStatusChanged) {
  const type = PAYMENT_EVENT_TYPES[p.to];
  if (type === null) return null;
  return {
    accountId: p.accountId,
    type,
    subjectId: p.paymentId,
    // The change itself (the payment's version after it), not what caused it: the change the API's
    // answer and the webhook both report is recorded once, and a status the payment comes back to (a
    // retried 3-D Secure challenge that fails again) is a new change, announced again.
    causeId: `v${p.paymentVersion}`,
    data: {
      paymentId: p.paymentId,
      status: p.to,
      previousStatus: p.from,
      amount: p.amount,
      amountReceived: p.amountReceived,
      amountRefunded: p.amountRefunded,
      currency: p.currency,
      orderReference: p.orderReference,
      stripePaymentIntentId: p.stripePaymentIntentId,
      failureCode: p.failureCode,
      declineCode: p.declineCode,
    },
  };
}

/** Payments and refunds announce their status changes; integrators hear of them through the outbox. */
@Injectable()
export class AnnounceStatusChangesListener {
  constructor(private readonly integrations: IntegrationsFacade) {}

  /** In the payment's own statement: one round trip on the payment path (`npm run bench:payments`). */
  @OnDomainEventInStatement('payment.status_changed')
  paymentStatusChanged(
    event: DomainEvent<'payment.status_changed'>,
    onlyWith: string | undefined,
  ): StatementPart[] {
    const input = paymentIntegrationEvent(event.payload);
    return input ? [this.integrations.recordPart(input, onlyWith)] : [];
  }

  @OnDomainEvent('refund.status_changed')
  async refundStatusChanged(
    event: DomainEvent<'refund.status_changed'>,
    manager: EntityManager,
  ): Promise<void> {
    const r = event.payload;
    const type = REFUND_EVENT_TYPES[r.to];
    if (type === null) return;
    await this.integrations.record(manager, {
      accountId: r.accountId,
      type,
      subjectId: r.refundId,
      causeId: null,
      data: {
        refundId: r.refundId,
        paymentId: r.paymentId,
        status: r.to,
        previousStatus: r.from,
        amount: r.amount,
        currency: r.currency,
        reason: r.reason,
        failureReason: r.failureReason,
        stripeRefundId: r.stripeRefundId,
      },
    });
  }
}
