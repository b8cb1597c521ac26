import { Processor } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bull';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { AppConfig } from '../../../platform/config/app-config.js';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { type JobEnvelope, QUEUES } from '../../../platform/queue/queue.registry.js';
import {
  RunReconciliationHandler,
  type RunWindow,
} from '../commands/run-reconciliation/run-reconciliation.handler.js';
import { ReconciliationRunOrmEntity } from '../persistence/reconciliation-run.orm-entity.js';

const HOUR_MS = 60 * 60 * 1000;

/** The scheduled run's window: RECONCILIATION_WINDOW_HOURS back from the last full hour. */
export function scheduledWindow(now: Date, windowHours: number): RunWindow {
  const end = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  return { start: new Date(end.getTime() - windowHours * HOUR_MS), end };
}

/** Runs reconciliation: hourly on schedule, and the runs admins request. */
@Processor(QUEUES.reconciliation)
@Injectable()
export class ReconciliationProcessor {
  private readonly logger = new Logger('Reconciliation');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly runs: RunReconciliationHandler,
  ) {}

  @HandlesJob('reconciliation.scheduled-run')
  async scheduled(): Promise<{ runId: string; ran: boolean }> {
    const window = scheduledWindow(this.clock.now(), this.config.reconciliation.windowHours);
    const { run, created } = await this.runs.execute(window, 'schedule');
    if (!created) this.logger.log({ msg: 'window already reconciled or running', runId: run.id });
    return { runId: run.id, ran: created };
  }

  /**
   * A run whose worker died (crash, OOM kill, a deploy that did not wait) keeps its cursor; once its lease
   * has run out, the next worker to fire this job resumes it from there (one at a time).
   */
  @HandlesJob('reconciliation.resume-abandoned')
  async resumeAbandoned(
    _job: Job<JobEnvelope<'reconciliation.resume-abandoned'>>,
  ): Promise<{ runId: string | null }> {
    const run = await this.runs.resumeAbandoned();
    return { runId: run?.id ?? null };
  }

  @HandlesJob('reconciliation.run')
  async requested(job: Job<JobEnvelope<'reconciliation.run'>>): Promise<{ runId: string; ran: boolean }> {
    const { runId } = job.data.payload;
    // Only a run nobody finished: a duplicate job finds it completed (or failed) and does nothing; a run
    // another worker holds (its lease is live) is left to it.
    const run = await this.db
      .getRepository(ReconciliationRunOrmEntity)
      .findOne({ where: { id: runId, status: 'running' } });
    if (!run || run.finishedAt !== null) return { runId, ran: false };
    const done = await this.runs.runClaimed(run);
    return { runId, ran: done.status !== 'running' };
  }
}
