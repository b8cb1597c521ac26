import { openDunningCase, stepDueAt, type DunningPolicy } from '@billing/domain';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import type { Actor } from '../../../../platform/context/request-context.js';
import { DomainEvents } from '../../../../platform/events/domain-events.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { SubscriptionsFacade } from '../../../subscriptions/subscriptions.facade.js';
import { dunningCaseOpened } from '../../contracts/dunning.events.js';
import { DUNNING_POLICY } from '../../dunning.tokens.js';
import { DunningScheduler } from '../../jobs/dunning-scheduler.js';
import { caseRef } from '../../persistence/dunning-case.mapper.js';
import { DunningCaseOrmEntity } from '../../persistence/dunning-case.orm-entity.js';
import { DunningStepOrmEntity } from '../../persistence/dunning-step.orm-entity.js';
import { DunningTimeRepository } from '../../persistence/dunning-time.repository.js';

/**
 * What opens a case: the facts of a failed attempt on an open invoice (the invoice mirror's
 * `invoice.payment_failed` payload has them; declared here so that dunning does not depend on the
 * invoices module, which the e-mails' path back to dunning would make a cycle).
 */
export interface FailedInvoiceAttempt {
  accountId: string;
  stripeInvoiceId: string;
  stripeCustomerId: string;
  stripeSubscriptionId: string | null;
  amountDue: number;
  amountRemaining: number;
  currency: string;
  hostedInvoiceUrl: string | null;
  testClockId: string | null;
  /** When the attempt failed (ISO), Day 0. */
  failedAt: string;
}

/**
 * Opens the dunning case of an invoice whose payment failed (R-DUN-1), once per invoice: a duplicate
 * or a later failed attempt of the same invoice finds the case and changes nothing. Day 0 is the failed
 * attempt's time. Writes every step of the policy with its due time, moves the subscription to
 * past_due through the machine (with Day 0 as `past_due_since`), publishes `dunning.case_opened` and,
 * after the commit, queues the steps (Day 0's at once).
 */
@Injectable()
export class OpenDunningCaseHandler {
  constructor(
    @Inject(DUNNING_POLICY) private readonly policy: DunningPolicy,
    private readonly clock: Clock,
    private readonly time: DunningTimeRepository,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly events: DomainEvents,
    private readonly audit: AuditFacade,
    private readonly scheduler: DunningScheduler,
  ) {}

  async execute(
    manager: EntityManager,
    failed: FailedInvoiceAttempt,
    actor: Actor,
  ): Promise<'opened' | 'exists'> {
    const day0 = new Date(failed.failedAt);
    const domainCase = openDunningCase(day0);
    const steps = this.policy.steps.map((step, position) => ({
      step,
      position,
      dueAt: stepDueAt(domainCase, step),
    }));
    const suspendStep = steps.find((s) => s.step.actions.some((a) => a.kind === 'suspend'));
    const suspendAt = suspendStep?.dueAt ?? steps[steps.length - 1]?.dueAt ?? day0;
    const subscription = failed.stripeSubscriptionId
      ? await this.subscriptions.findByStripeId(failed.stripeSubscriptionId, manager)
      : null;
    const now = this.clock.now();
    const row: DunningCaseOrmEntity = {
      id: randomUUID(),
      accountId: failed.accountId,
      subscriptionId: subscription?.id ?? null,
      stripeSubscriptionId: failed.stripeSubscriptionId,
      stripeInvoiceId: failed.stripeInvoiceId,
      stripeCustomerId: failed.stripeCustomerId,
      testClockId: failed.testClockId,
      amountDue: failed.amountRemaining > 0 ? failed.amountRemaining : failed.amountDue,
      currency: failed.currency,
      hostedInvoiceUrl: failed.hostedInvoiceUrl,
      day0,
      suspendAt,
      status: 'open',
      suspendedAt: null,
      outcome: null,
      closedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(DunningCaseOrmEntity)
      .values(row)
      .orIgnore()
      .returning('id')
      .execute();
    if ((inserted.raw as unknown[]).length === 0) return 'exists';
    await manager.getRepository(DunningStepOrmEntity).insert(
      steps.map(({ step, position, dueAt }): DunningStepOrmEntity => ({
        caseId: row.id,
        stepId: step.id,
        position,
        dayOffset: step.dayOffset,
        dueAt,
        status: 'pending',
        ranAt: null,
        retryOutcome: null,
      })),
    );
    const clockNow = row.testClockId ? await this.time.clockReached(manager, row.testClockId, day0) : null;
    if (row.stripeSubscriptionId) {
      // The attempt that opened the case counts once: the machine counts it when it moves an active
      // subscription to past_due; Stripe's own past_due report may have counted it first.
      await this.subscriptions.applyDunningInput(
        manager,
        row.stripeSubscriptionId,
        { type: 'payment_failed', at: day0, counted: false },
        actor,
      );
    }
    await this.audit.record(
      {
        accountId: row.accountId,
        action: 'dunning.case_opened',
        entityType: 'dunning_case',
        entityId: row.id,
        before: null,
        after: { stripeInvoiceId: row.stripeInvoiceId, day0: day0.toISOString(), amountDue: row.amountDue },
        actor,
      },
      manager,
    );
    await this.events.publish(manager, [
      dunningCaseOpened({ ...caseRef(row), day0: day0.toISOString(), suspendAt: suspendAt.toISOString() }),
    ]);
    this.scheduler.scheduleAfterCommit(
      manager,
      steps.map((s) => ({ caseId: row.id, stepId: s.step.id, dueAt: s.dueAt })),
      clockNow,
    );
    return 'opened';
  }
}
