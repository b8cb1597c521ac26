import { gracePolicyOf, type DunningEmailTemplate, type DunningPolicy } from '@billing/domain';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import {
  entityColumnsSql,
  hydrateJsonRows,
  hydrateRow,
  queryRows,
  sql,
  type StatementPart,
} from '../../../../platform/database/row-sql.js';
import type { Actor } from '../../../../platform/context/request-context.js';
import { DomainEvents } from '../../../../platform/events/domain-events.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { SubscriptionsFacade } from '../../../subscriptions/subscriptions.facade.js';
import { dunningAccountSuspended, dunningStepRan } from '../../contracts/dunning.events.js';
import { DUNNING_POLICY } from '../../dunning.tokens.js';
import { DunningMetrics } from '../../dunning.metrics.js';
import { caseRef } from '../../persistence/dunning-case.mapper.js';
import { DunningCaseOrmEntity } from '../../persistence/dunning-case.orm-entity.js';
import { DunningStepOrmEntity } from '../../persistence/dunning-step.orm-entity.js';
import { InvoiceRetrier } from '../../stripe/invoice-retrier.js';
import { CloseDunningCaseHandler } from '../close-dunning-case/close-dunning-case.handler.js';

/** What one call did: the steps it ran, in order. */
export interface RunDueOutcome {
  ran: string[];
}

/**
 * Runs a case's steps that are due on its timeline, oldest first, each exactly once (R-DUN-5): each
 * step in its own transaction (or, for the steps due at once without a retry, the one that opens the
 * case: `runDueAtOpening`), under the case's row lock, and only while its row is `pending`; the
 * row is marked `done` in the transaction that publishes `dunning.step_ran`. So a job that runs twice,
 * a job and the catch-up, or two workers never run a step twice; a crash before the commit leaves the
 * step pending for the job's retry or the catch-up.
 *
 * Actions: a retry calls `invoices.pay` with an idempotency key per (invoice, attempt), so a step run
 * again after a crash cannot charge twice (Stripe answers the first outcome again); a success closes
 * the case (paid). A failed retry counts an attempt on the subscription. The suspend step asks the
 * machine for `grace_exhausted` (7 days AND 3 attempts, R-SM) and publishes
 * `dunning.account_suspended` when it suspended.
 */
@Injectable()
export class RunDunningStepHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(DUNNING_POLICY) private readonly policy: DunningPolicy,
    private readonly clock: Clock,
    private readonly retrier: InvoiceRetrier,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly events: DomainEvents,
    private readonly audit: AuditFacade,
    private readonly close: CloseDunningCaseHandler,
    private readonly metrics: DunningMetrics,
  ) {}

  async runDue(caseId: string): Promise<RunDueOutcome> {
    const ran: string[] = [];
    for (;;) {
      const step = await this.db.transaction((manager) => this.runNext(manager, caseId));
      if (!step) return { ran };
      ran.push(step.ran);
      if (!step.more) return { ran };
    }
  }

  /**
   * In the transaction that opens the case (`row` and its `steps` just written, the subscription already
   * moved): runs the leading steps that are due at `now` and call no one outside the database (no retry
   * at Stripe), i.e. Day 0's e-mail and banner, as their job would have run them at once; returns their
   * ids, for the caller to queue only the others. A step with a retry is left to its job: a call to
   * Stripe has no place in a webhook's transaction.
   */
  async runDueAtOpening(
    manager: EntityManager,
    row: DunningCaseOrmEntity,
    steps: DunningStepOrmEntity[],
    now: Date,
  ): Promise<string[]> {
    const ran: string[] = [];
    for (const step of steps) {
      if (step.status !== 'pending') continue;
      if (step.dueAt.getTime() > now.getTime()) break;
      const actions = this.policy.steps.find((s) => s.id === step.stepId)?.actions ?? [];
      if (actions.some((a) => a.kind === 'retry_payment')) break;
      const outcome = await this.runStep(manager, row, steps, step, now);
      ran.push(step.stepId);
      if (!outcome.more) break;
    }
    return ran;
  }

  /**
   * Runs the case's first pending step if it is due: its id, and whether the next one is due too (after
   * downtime); null when none ran. The case (locked), its steps and its clock's time are read in one
   * statement.
   */
  private async runNext(
    manager: EntityManager,
    caseId: string,
  ): Promise<{ ran: string; more: boolean } | null> {
    const [found] = await queryRows<Record<string, unknown>>(
      manager,
      sql`SELECT ${entityColumnsSql(manager, DunningCaseOrmEntity, 'c')},
                 (SELECT json_agg(s ORDER BY s.position) FROM dunning_steps s WHERE s.case_id = c.id)
                   AS dunning__steps,
                 (SELECT k.frozen_time FROM dunning_test_clocks k WHERE k.test_clock_id = c.test_clock_id)
                   AS dunning__clock_time
            FROM dunning_cases c
           WHERE c.id = ${caseId}::uuid
             FOR UPDATE OF c`,
    );
    if (!found) return null;
    const row = hydrateRow(manager, DunningCaseOrmEntity, found);
    if (row.status !== 'open') return null;
    const all = hydrateJsonRows(manager, DunningStepOrmEntity, found.dunning__steps);
    const step = all.find((s) => s.status === 'pending');
    if (!step) return null;
    const now = row.testClockId
      ? ((found.dunning__clock_time as Date | null) ?? new Date(0))
      : this.clock.now();
    if (step.dueAt.getTime() > now.getTime()) return null;
    return this.runStep(manager, row, all, step, now);
  }

  /**
   * Runs `step` of the locked case at `now` (the case's timeline): its actions, then, in ONE statement,
   * the step marked done, its audit record and what the listeners of `dunning.step_ran` write with it
   * (the step's e-mail).
   */
  private async runStep(
    manager: EntityManager,
    row: DunningCaseOrmEntity,
    all: DunningStepOrmEntity[],
    step: DunningStepOrmEntity,
    now: Date,
  ): Promise<{ ran: string; more: boolean }> {
    const actor: Actor = { type: 'system', id: `dunning:${row.id}:${step.stepId}` };
    const policyStep = this.policy.steps.find((s) => s.id === step.stepId);
    const actions = policyStep?.actions ?? [];
    let retryOutcome: 'succeeded' | 'failed' | null = null;
    let template: DunningEmailTemplate | null = null;
    let suspended = false;
    for (const action of actions) {
      switch (action.kind) {
        case 'send_email':
          template = action.template;
          break;
        case 'retry_payment': {
          retryOutcome = await this.retrier.retry(
            row.stripeInvoiceId,
            this.attemptNumber(all, step.position),
          );
          if (retryOutcome === 'failed' && row.stripeSubscriptionId) {
            await this.subscriptions.applyDunningInput(
              manager,
              row.stripeSubscriptionId,
              { type: 'payment_failed', at: now },
              actor,
            );
          }
          break;
        }
        case 'suspend': {
          if (retryOutcome === 'succeeded' || !row.stripeSubscriptionId) break;
          const result = await this.subscriptions.applyDunningInput(
            manager,
            row.stripeSubscriptionId,
            { type: 'grace_exhausted', at: now, grace: gracePolicyOf(this.policy) },
            actor,
          );
          suspended = result?.to === 'suspended' && result.from !== 'suspended';
          break;
        }
      }
    }
    step.status = 'done';
    step.ranAt = now;
    step.retryOutcome = retryOutcome;
    const cases = manager.getRepository(DunningCaseOrmEntity);
    if (suspended) {
      row.suspendedAt = now;
      row.updatedAt = this.clock.now();
      await cases.update({ id: row.id }, { suspendedAt: now, updatedAt: row.updatedAt });
    }
    const next = all.find((s) => s.status === 'pending' && s.position > step.position);
    const ref = caseRef(row);
    const marked: StatementPart = {
      ctes: [
        sql`dunning__step AS (
          UPDATE dunning_steps SET status = 'done', ran_at = ${now}, retry_outcome = ${retryOutcome}
           WHERE case_id = ${row.id}::uuid AND step_id = ${step.stepId} AND status = 'pending'
          RETURNING case_id)`,
        sql`dunning__audit AS (${this.audit.recordSql(
          manager,
          {
            accountId: row.accountId,
            action: 'dunning.step_ran',
            entityType: 'dunning_case',
            entityId: row.id,
            before: { step: step.stepId, status: 'pending' },
            after: { step: step.stepId, status: 'done', retryOutcome, suspended },
            actor,
          },
          'dunning__step',
        )})`,
      ],
      outputs: [sql`(SELECT count(*)::int FROM dunning__step) AS dunning__marked`],
    };
    const result = await this.events.publishWithStatement(
      manager,
      [
        dunningStepRan({
          ...ref,
          stepId: step.stepId,
          dayOffset: step.dayOffset,
          template,
          retried: retryOutcome !== null,
          retryOutcome,
          ranAt: now.toISOString(),
          nextStepAt: retryOutcome === 'succeeded' ? null : (next?.dueAt.toISOString() ?? null),
          suspendAt: row.suspendAt.toISOString(),
        }),
        ...(suspended ? [dunningAccountSuspended({ ...ref, suspendedAt: now.toISOString() })] : []),
      ],
      [marked],
      'dunning__step',
      (r) => r.dunning__marked === 1,
    );
    // Under the case's row lock a pending step stays pending until this statement marks it.
    if (result.dunning__marked !== 1)
      throw new Error(`dunning step ${row.id}:${step.stepId} was not pending`);
    if (retryOutcome === 'succeeded') await this.close.close(manager, row, 'paid', now, actor);
    this.metrics.stepRan(step.stepId, retryOutcome);
    const more = retryOutcome !== 'succeeded' && next !== undefined && next.dueAt.getTime() <= now.getTime();
    return { ran: step.stepId, more };
  }

  /** The collection attempt a retry step makes: the failure that opened the case was attempt 1. */
  private attemptNumber(steps: readonly DunningStepOrmEntity[], position: number): number {
    const retriesBefore = steps
      .filter((s) => s.position < position)
      .reduce((n, s) => {
        const policyStep = this.policy.steps.find((p) => p.id === s.stepId);
        return n + (policyStep?.actions.filter((a) => a.kind === 'retry_payment').length ?? 0);
      }, 0);
    return 2 + retriesBefore;
  }
}
