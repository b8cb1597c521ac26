import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '../../../platform/http/api-error.js';
import { decodeCursor, type Page, toPage } from '../../../platform/http/pagination.js';
import type { FindingStatus } from '../persistence/reconciliation-finding.orm-entity.js';
import { ReconciliationFindingOrmEntity } from '../persistence/reconciliation-finding.orm-entity.js';
import { ReconciliationRunOrmEntity, type RunStats } from '../persistence/reconciliation-run.orm-entity.js';

/** A run as the admin API shows it. Dates are ISO strings. */
export interface RunView {
  id: string;
  windowStart: string;
  windowEnd: string;
  trigger: string;
  status: string;
  stats: RunStats;
  error: string | null;
  requestedBy: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface FindingView {
  id: string;
  runId: string;
  objectType: string;
  stripeId: string;
  accountId: string | null;
  kind: string;
  safe: boolean;
  status: string;
  appValue: Record<string, unknown> | null;
  stripeValue: Record<string, unknown> | null;
  reason: string;
  resolutionNote: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

export function toRunView(row: ReconciliationRunOrmEntity): RunView {
  return {
    id: row.id,
    windowStart: row.windowStart.toISOString(),
    windowEnd: row.windowEnd.toISOString(),
    trigger: row.trigger,
    status: row.status,
    stats: row.stats,
    error: row.error,
    requestedBy: row.requestedBy,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

export function toFindingView(row: ReconciliationFindingOrmEntity): FindingView {
  return {
    id: row.id,
    runId: row.runId,
    objectType: row.objectType,
    stripeId: row.stripeId,
    accountId: row.accountId,
    kind: row.kind,
    safe: row.safe,
    status: row.status,
    appValue: row.appValue,
    stripeValue: row.stripeValue,
    reason: row.reason,
    resolutionNote: row.resolutionNote,
    resolvedBy: row.resolvedBy,
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Reads of runs and findings for the admin API, newest first, cursor-paginated. */
@Injectable()
export class ReconciliationQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async listRuns(options: { limit: number; cursor?: string | undefined }): Promise<Page<RunView>> {
    const after = decodeCursor(options.cursor, { value: 'instant', id: 'uuid' });
    const qb = this.db
      .getRepository(ReconciliationRunOrmEntity)
      .createQueryBuilder('r')
      .orderBy('r.started_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(options.limit + 1);
    if (after) qb.andWhere('(r.started_at, r.id) < (:at, :id)', { at: new Date(after.value), id: after.id });
    const rows = await qb.getMany();
    return toPage(rows.map(toRunView), options.limit, (v) => ({ value: v.startedAt, id: v.id }));
  }

  async getRun(id: string): Promise<RunView & { findings: FindingView[] }> {
    const row = await this.db.getRepository(ReconciliationRunOrmEntity).findOne({ where: { id } });
    if (!row) throw new ApiError('not_found', `No reconciliation run ${id}.`);
    const findings = await this.listFindings({ runId: id }, { limit: 100 });
    return { ...toRunView(row), findings: findings.data };
  }

  async listFindings(
    filter: { runId?: string | undefined; status?: FindingStatus | undefined },
    options: { limit: number; cursor?: string | undefined },
  ): Promise<Page<FindingView>> {
    const after = decodeCursor(options.cursor, { value: 'instant', id: 'uuid' });
    const qb = this.db
      .getRepository(ReconciliationFindingOrmEntity)
      .createQueryBuilder('f')
      .orderBy('f.created_at', 'DESC')
      .addOrderBy('f.id', 'DESC')
      .limit(options.limit + 1);
    if (filter.runId) qb.andWhere('f.run_id = :run', { run: filter.runId });
    if (filter.status) qb.andWhere('f.status = :status', { status: filter.status });
    if (after) qb.andWhere('(f.created_at, f.id) < (:at, :id)', { at: new Date(after.value), id: after.id });
    const rows = await qb.getMany();
    return toPage(rows.map(toFindingView), options.limit, (v) => ({ value: v.createdAt, id: v.id }));
  }
}
