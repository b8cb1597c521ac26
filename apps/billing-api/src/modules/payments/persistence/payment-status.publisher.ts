import { Injectable } from '@nestjs/common';
import type { PaymentStatus } from '@billing/domain';
import type { EntityManager } from 'typeorm';
import type { StatementPart } from '../../../platform/database/row-sql.js';
import { Clock } from '../../../platform/clock/clock.js';
import type { DomainEvent } from '../../../platform/events/domain-event.js';
import { DomainEvents } from '../../../platform/events/domain-events.js';
import { paymentStatusChanged } from '../contracts/payment.events.js';
import type { PaymentOrmEntity } from './payment.orm-entity.js';

/**
 * Announces a payment's status change (`payment.status_changed`), in the transaction that made it and
 * whichever path made it (the API applying Stripe's answer, the janitor, a webhook); the caller holds
 * the payment's row lock and calls this once per change. The listeners (receipts on first capture,
 * integration events, the payments metric) live in the modules that own them.
 */
@Injectable()
export class PaymentStatusPublisher {
  constructor(
    private readonly clock: Clock,
    private readonly events: DomainEvents,
  ) {}

  /** The event of the change of `row` (as it is after the change) from `from`. */
  event(row: PaymentOrmEntity, from: PaymentStatus | null): DomainEvent<'payment.status_changed'> {
    return paymentStatusChanged({
      paymentId: row.id,
      accountId: row.accountId,
      paymentVersion: row.version,
      from,
      to: row.status,
      amount: row.amount,
      amountReceived: row.amountReceived,
      amountRefunded: row.amountRefunded,
      currency: row.currency,
      description: row.description,
      orderReference: row.orderReference,
      stripePaymentIntentId: row.stripePaymentIntentId,
      failureCode: row.failureCode,
      declineCode: row.declineCode,
      cardBrand: row.cardBrand,
      cardLast4: row.cardLast4,
      succeededAt: row.succeededAt?.toISOString() ?? null,
      occurredAt: this.clock.now().toISOString(),
    });
  }

  /** Publishes the change in the caller's transaction. */
  execute(manager: EntityManager, row: PaymentOrmEntity, from: PaymentStatus | null): Promise<void> {
    return this.events.publish(manager, [this.event(row, from)]);
  }

  /**
   * Runs the caller's version-checked change (`own`, whose CTE `onlyWith` returns the row when the
   * change happened) and, when `changed`, publishes it in the same statement: one round trip for the
   * API's answer on the payment path (`npm run bench:payments`). Returns the statement's row.
   */
  executeWith(
    manager: EntityManager,
    own: readonly StatementPart[],
    onlyWith: string,
    change: { row: PaymentOrmEntity; from: PaymentStatus } | null,
  ): Promise<Record<string, unknown>> {
    return this.events.publishWithStatement(
      manager,
      change ? [this.event(change.row, change.from)] : [],
      own,
      onlyWith,
      (result) => result[onlyWith] !== null,
    );
  }
}
