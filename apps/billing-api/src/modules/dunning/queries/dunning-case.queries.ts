import type { DunningPolicy } from '@billing/domain';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import { decodeCursor, toPage, type Page } from '../../../platform/http/pagination.js';
import { hydrateJsonRows, sql, type ReadPart, type Sql } from '../../../platform/database/row-sql.js';
import type { DunningCaseView, DunningStage } from '../contracts/dunning-case.view.js';
import { DUNNING_POLICY } from '../dunning.tokens.js';
import { caseRef } from '../persistence/dunning-case.mapper.js';
import { DunningCaseOrmEntity } from '../persistence/dunning-case.orm-entity.js';
import { DunningStepOrmEntity } from '../persistence/dunning-step.orm-entity.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** Reads of dunning cases: an account's open case and its timeline, the admin list, the verdict's stage. */
@Injectable()
export class DunningCaseQueries {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(DUNNING_POLICY) private readonly policy: DunningPolicy,
  ) {}

  /** The account's open case (the oldest when several invoices are unpaid), null when none. */
  async openForAccount(
    accountId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<DunningCaseView | null> {
    const row = await manager.getRepository(DunningCaseOrmEntity).findOne({
      where: { accountId, status: 'open' },
      order: { day0: 'ASC', id: 'ASC' },
    });
    if (!row) return null;
    const [view] = await this.views([row], manager);
    return view ?? null;
  }

  /**
   * The verdict's dunning stage of the account (null when it has no open case), as part of the caller's
   * statement (output `dunning__stage`): the account's oldest open case with its steps, in one subquery.
   */
  stagePart(
    accountId: string | Sql,
    manager: EntityManager = this.db.manager,
  ): ReadPart<DunningStage | null> {
    return {
      ctes: [],
      outputs: [
        sql`(SELECT json_build_object(
                'case', row_to_json(c),
                'steps', (SELECT json_agg(row_to_json(st) ORDER BY st.position)
                            FROM dunning_steps st WHERE st.case_id = c.id))
               FROM dunning_cases c
              WHERE c.account_id = ${accountId}::uuid AND c.status = 'open'
              ORDER BY c.day0 ASC, c.id ASC
              LIMIT 1) AS dunning__stage`,
      ],
      read: (result) => {
        const found = result.dunning__stage as { case: unknown; steps: unknown } | null;
        const [row] = found ? hydrateJsonRows(manager, DunningCaseOrmEntity, found.case) : [];
        if (!found || !row) return null;
        const view = this.viewOf(row, hydrateJsonRows(manager, DunningStepOrmEntity, found.steps));
        if (view.stage === 'closed') return null;
        return {
          caseId: view.caseId,
          stage: view.stage,
          lastStep: view.lastStep,
          nextStep: view.nextStep,
          day0: view.day0,
          suspendAt: view.suspendAt,
          hostedInvoiceUrl: view.hostedInvoiceUrl,
        };
      },
    };
  }

  /**
   * Open cases, oldest Day 0 first, cursor-paginated; `step` keeps those whose last step is that one
   * (`opened`: none ran yet). With the count of open cases by last step.
   */
  async listOpen(options: {
    step?: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<DunningCaseView> & { counts: Record<string, number> }> {
    const after = decodeCursor(options.cursor, { value: 'instant', id: 'uuid' });
    const lastStep = `(SELECT s.step_id FROM dunning_steps s WHERE s.case_id = c.id AND s.status = 'done'
                        ORDER BY s.position DESC LIMIT 1)`;
    const params: unknown[] = [options.limit + 1];
    let where = `c.status = 'open'`;
    if (options.step !== undefined) {
      params.push(options.step);
      where += ` AND COALESCE(${lastStep}, 'opened') = $${params.length}`;
    }
    if (after) {
      params.push(after.value, after.id);
      where += ` AND (c.day0, c.id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
    }
    const ids: { id: string }[] = await this.db.query(
      `SELECT c.id FROM dunning_cases c WHERE ${where} ORDER BY c.day0 ASC, c.id ASC LIMIT $1`,
      params,
    );
    const rows = await this.db
      .getRepository(DunningCaseOrmEntity)
      .find({ where: { id: In(ids.map((r) => r.id)) } });
    rows.sort((a, b) => a.day0.getTime() - b.day0.getTime() || a.id.localeCompare(b.id));
    const page = toPage(await this.views(rows, this.db.manager), options.limit, (v) => ({
      value: v.day0,
      id: v.caseId,
    }));
    const counted: { step: string; n: number }[] = await this.db.query(
      `SELECT COALESCE(${lastStep}, 'opened') AS step, count(*)::int AS n
         FROM dunning_cases c WHERE c.status = 'open' GROUP BY 1`,
    );
    return { ...page, counts: Object.fromEntries(counted.map((r) => [r.step, r.n])) };
  }

  private async views(rows: DunningCaseOrmEntity[], manager: EntityManager): Promise<DunningCaseView[]> {
    if (rows.length === 0) return [];
    const steps = await manager.getRepository(DunningStepOrmEntity).find({
      where: { caseId: In(rows.map((r) => r.id)) },
      order: { position: 'ASC' },
    });
    return rows.map((row) =>
      this.viewOf(
        row,
        steps.filter((s) => s.caseId === row.id),
      ),
    );
  }

  /** A case with its own steps (in position order) as the API shows it. */
  private viewOf(row: DunningCaseOrmEntity, own: DunningStepOrmEntity[]): DunningCaseView {
    const done = own.filter((s) => s.status === 'done');
    const next = row.status === 'open' ? own.find((s) => s.status === 'pending') : undefined;
    return {
      ...caseRef(row),
      stage: row.status === 'closed' ? 'closed' : row.suspendedAt ? 'suspended' : 'past_due',
      outcome: row.outcome,
      day0: row.day0.toISOString(),
      suspendAt: row.suspendAt.toISOString(),
      suspendedAt: iso(row.suspendedAt),
      closedAt: iso(row.closedAt),
      testClockId: row.testClockId,
      lastStep: done[done.length - 1]?.stepId ?? null,
      nextStep: next ? { id: next.stepId, dueAt: next.dueAt.toISOString() } : null,
      steps: own.map((s) => ({
        id: s.stepId,
        dayOffset: s.dayOffset,
        actions: this.actionsOf(s.stepId),
        dueAt: s.dueAt.toISOString(),
        status: s.status,
        ranAt: iso(s.ranAt),
        retryOutcome: s.retryOutcome,
      })),
    };
  }

  private actionsOf(stepId: string): string[] {
    const step = this.policy.steps.find((s) => s.id === stepId);
    return (step?.actions ?? []).map((a) => (a.kind === 'send_email' ? `send_email:${a.template}` : a.kind));
  }
}
