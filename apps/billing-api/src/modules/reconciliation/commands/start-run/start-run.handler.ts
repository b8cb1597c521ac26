import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { RequestContext } from '../../../../platform/context/request-context.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { JobQueue } from '../../../../platform/queue/job-queue.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { ReconciliationRunOrmEntity } from '../../persistence/reconciliation-run.orm-entity.js';
import { type RunView, toRunView } from '../../queries/reconciliation.queries.js';
import { RunReconciliationHandler } from '../run-reconciliation/run-reconciliation.handler.js';

const HOUR_MS = 60 * 60 * 1000;
/** A window longer than this is refused (a run pages every invoice and PaymentIntent in it). */
export const MAX_WINDOW_DAYS = 400;

/**
 * An admin's request for a run (R-REC-1): claims the window (a window already run, or running, answers
 * that run: one run per window) and queues the run for a worker (job id = run id). Audited.
 */
@Injectable()
export class StartRunHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly runs: RunReconciliationHandler,
    private readonly jobs: JobQueue,
    private readonly audit: AuditFacade,
  ) {}

  async execute(input: {
    from?: Date | undefined;
    to?: Date | undefined;
  }): Promise<{ run: RunView; created: boolean }> {
    const now = this.clock.now();
    const end = input.to ?? new Date(Math.floor(now.getTime() / 1000) * 1000);
    const start = input.from ?? new Date(end.getTime() - this.config.reconciliation.windowHours * HOUR_MS);
    if (start.getTime() >= end.getTime()) {
      throw new ApiError('validation_failed', 'from must be before to.', { param: 'from' });
    }
    if (end.getTime() - start.getTime() > MAX_WINDOW_DAYS * 24 * HOUR_MS) {
      throw new ApiError('validation_failed', `The window is at most ${MAX_WINDOW_DAYS} days.`, {
        param: 'from',
      });
    }
    if (end.getTime() > now.getTime() + 60_000) {
      throw new ApiError('validation_failed', 'to must not be in the future.', { param: 'to' });
    }
    const actor = RequestContext.actor();
    const { run, created } = await this.runs.claim({ start, end }, 'admin', actor.id);
    if (!created) return { run: toRunView(run), created };
    await this.audit.record({
      accountId: null,
      action: 'reconciliation.run_requested',
      entityType: 'reconciliation_run',
      entityId: run.id,
      after: { windowStart: start.toISOString(), windowEnd: end.toISOString() },
      actor,
    });
    try {
      await this.jobs.enqueue('reconciliation.run', { runId: run.id }, { jobId: run.id });
    } catch (error) {
      run.status = 'failed';
      run.error = 'the run could not be queued (Redis unavailable); request it again';
      run.finishedAt = this.clock.now();
      await this.db.getRepository(ReconciliationRunOrmEntity).save(run);
      throw new ApiError('service_unavailable', 'The run could not be queued; try again shortly.', {
        details: { runId: run.id, cause: error instanceof Error ? error.message : String(error) },
      });
    }
    return { run: toRunView(run), created };
  }
}
