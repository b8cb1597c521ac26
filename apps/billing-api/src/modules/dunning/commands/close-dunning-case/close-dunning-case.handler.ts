import { Injectable } from '@nestjs/common';
import { In, type EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import type { Actor } from '../../../../platform/context/request-context.js';
import { DomainEvents } from '../../../../platform/events/domain-events.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { SubscriptionsFacade } from '../../../subscriptions/subscriptions.facade.js';
import { dunningCaseClosed, type DunningCaseClosed } from '../../contracts/dunning.events.js';
import { DunningScheduler } from '../../jobs/dunning-scheduler.js';
import { caseRef } from '../../persistence/dunning-case.mapper.js';
import { DunningCaseOrmEntity } from '../../persistence/dunning-case.orm-entity.js';
import { DunningStepOrmEntity } from '../../persistence/dunning-step.orm-entity.js';

type Outcome = DunningCaseClosed['outcome'];

/**
 * Closes a case, once (R-DUN-4): the invoice was paid (a retry, pay-outstanding, a new card, Stripe's
 * own attempt), voided or marked uncollectible, or the subscription ended. Pending steps are canceled
 * (their queued jobs removed after the commit); a paid invoice returns the subscription to active
 * through the machine; `dunning.case_closed` says whether access had been cut. A closed case is left
 * as it is.
 */
@Injectable()
export class CloseDunningCaseHandler {
  constructor(
    private readonly clock: Clock,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly events: DomainEvents,
    private readonly audit: AuditFacade,
    private readonly scheduler: DunningScheduler,
  ) {}

  async forInvoice(
    manager: EntityManager,
    stripeInvoiceId: string,
    outcome: Outcome,
    at: Date,
    actor: Actor,
  ): Promise<boolean> {
    const row = await manager
      .getRepository(DunningCaseOrmEntity)
      .findOne({ where: { stripeInvoiceId }, lock: { mode: 'pessimistic_write' } });
    return row ? this.close(manager, row, outcome, at, actor) : false;
  }

  /** The subscription ended (canceled or expired, by Stripe or the owner): its open cases close. */
  async forSubscription(
    manager: EntityManager,
    stripeSubscriptionId: string,
    at: Date,
    actor: Actor,
  ): Promise<number> {
    const rows = await manager.getRepository(DunningCaseOrmEntity).find({
      where: { stripeSubscriptionId, status: 'open' },
      lock: { mode: 'pessimistic_write' },
      order: { id: 'ASC' },
    });
    let closed = 0;
    for (const row of rows) {
      if (await this.close(manager, row, 'subscription_canceled', at, actor)) closed += 1;
    }
    return closed;
  }

  /** Closes the locked case; false when it was already closed. */
  async close(
    manager: EntityManager,
    row: DunningCaseOrmEntity,
    outcome: Outcome,
    at: Date,
    actor: Actor,
  ): Promise<boolean> {
    if (row.status !== 'open') return false;
    const steps = manager.getRepository(DunningStepOrmEntity);
    const pending = await steps.find({ where: { caseId: row.id, status: 'pending' } });
    if (pending.length > 0) {
      await steps.update(
        { caseId: row.id, stepId: In(pending.map((s) => s.stepId)) },
        { status: 'canceled' },
      );
    }
    row.status = 'closed';
    row.outcome = outcome;
    row.closedAt = at;
    row.updatedAt = this.clock.now();
    await manager
      .getRepository(DunningCaseOrmEntity)
      .update({ id: row.id }, { status: 'closed', outcome, closedAt: at, updatedAt: row.updatedAt });
    if (outcome === 'paid' && row.stripeSubscriptionId) {
      await this.subscriptions.applyDunningInput(
        manager,
        row.stripeSubscriptionId,
        { type: 'payment_succeeded', at },
        actor,
      );
    }
    await this.audit.record(
      {
        accountId: row.accountId,
        action: 'dunning.case_closed',
        entityType: 'dunning_case',
        entityId: row.id,
        before: { status: 'open' },
        after: { status: 'closed', outcome, canceledSteps: pending.map((s) => s.stepId) },
        actor,
      },
      manager,
    );
    await this.events.publish(manager, [
      dunningCaseClosed({
        ...caseRef(row),
        outcome,
        wasSuspended: row.suspendedAt !== null,
        closedAt: at.toISOString(),
      }),
    ]);
    this.scheduler.cancelAfterCommit(
      manager,
      row.id,
      pending.map((s) => s.stepId),
    );
    return true;
  }
}
