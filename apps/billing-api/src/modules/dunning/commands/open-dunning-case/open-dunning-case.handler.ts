import { openDunningCase, stepDueAt, type DunningPolicy } from '@billing/domain';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { insertRowSql, queryRows, sql } from '../../../../platform/database/row-sql.js';
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
import { RunDunningStepHandler } from '../run-dunning-step/run-dunning-step.handler.js';

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
 * past_due through the machine (with Day 0 as `past_due_since`), publishes `dunning.case_opened`, runs
 * the steps due at once that need no call to Stripe (Day 0: its e-mail and banner) in the same
 * transaction (`RunDunningStepHandler.runDueAtOpening`: each step still exactly once, audited) and,
 * after the commit, queues the other steps. The case, its steps and its audit record are one statement
 * (`npm run bench:dunning`).
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
    private readonly stepRunner: RunDunningStepHandler,
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
    const now = this.clock.now();
    const row: DunningCaseOrmEntity = {
      id: randomUUID(),
      accountId: failed.accountId,
      subscriptionId: null,
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
    const opened = await this.insertCase(manager, row, steps, actor);
    if (!opened) return 'exists';
    row.subscriptionId = opened.subscriptionId;
    const stepRows = steps.map(({ step, position, dueAt }): DunningStepOrmEntity => ({
      caseId: row.id,
      stepId: step.id,
      position,
      dayOffset: step.dayOffset,
      dueAt,
      status: 'pending',
      ranAt: null,
      retryOutcome: null,
    }));
    const clockNow = row.testClockId
      ? await this.time.clockReached(manager, row.testClockId, day0, opened.clockTime)
      : null;
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
    await this.events.publish(manager, [
      dunningCaseOpened({ ...caseRef(row), day0: day0.toISOString(), suspendAt: suspendAt.toISOString() }),
    ]);
    // Day 0 (due now, no call to Stripe) runs in this transaction; the other steps are queued.
    const ranNow = new Set(await this.stepRunner.runDueAtOpening(manager, row, stepRows, clockNow ?? now));
    this.scheduler.scheduleAfterCommit(
      manager,
      steps
        .filter((s) => !ranNow.has(s.step.id))
        .map((s) => ({ caseId: row.id, stepId: s.step.id, dueAt: s.dueAt })),
      clockNow,
    );
    return 'opened';
  }

  /**
   * The case (once per invoice: null when it exists), its steps and its audit record in ONE statement
   * (`npm run bench:dunning`), which also reads the mirrored subscription's id and the test clock's
   * known time (null: none recorded).
   */
  private async insertCase(
    manager: EntityManager,
    row: DunningCaseOrmEntity,
    steps: readonly { step: DunningPolicy['steps'][number]; position: number; dueAt: Date }[],
    actor: Actor,
  ): Promise<{ subscriptionId: string | null; clockTime: Date | null } | null> {
    const [opened] = await queryRows<{
      id: string | null;
      subscription_id: string | null;
      clock_time: Date | null;
    }>(
      manager,
      sql`WITH dunning__case AS (
            ${insertRowSql(manager, DunningCaseOrmEntity, row, undefined, {
              subscriptionId: row.stripeSubscriptionId
                ? this.subscriptions.idByStripeIdSql(row.stripeSubscriptionId)
                : sql`NULL::uuid`,
            })}
            ON CONFLICT DO NOTHING
            RETURNING id, subscription_id),
          dunning__steps AS (
            INSERT INTO dunning_steps (case_id, step_id, position, day_offset, due_at, status)
            SELECT c.id, s.step_id, s.position, s.day_offset, s.due_at, 'pending'
              FROM dunning__case c
             CROSS JOIN unnest(${steps.map((s) => s.step.id)}::text[], ${steps.map((s) => s.position)}::int[],
                               ${steps.map((s) => s.step.dayOffset)}::int[], ${steps.map((s) => s.dueAt)}::timestamptz[])
                     AS s(step_id, position, day_offset, due_at)),
          dunning__audit AS (${this.audit.recordSql(
            manager,
            {
              accountId: row.accountId,
              action: 'dunning.case_opened',
              entityType: 'dunning_case',
              entityId: row.id,
              before: null,
              after: {
                stripeInvoiceId: row.stripeInvoiceId,
                day0: row.day0.toISOString(),
                amountDue: row.amountDue,
              },
              actor,
            },
            'dunning__case',
          )})
          SELECT (SELECT id FROM dunning__case) AS id, (SELECT subscription_id FROM dunning__case) AS subscription_id,
                 (SELECT frozen_time FROM dunning_test_clocks WHERE test_clock_id = ${row.testClockId})
                   AS clock_time`,
    );
    if (!opened?.id) return null;
    return { subscriptionId: opened.subscription_id, clockTime: opened.clock_time };
  }
}
