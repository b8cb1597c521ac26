import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { AfterCommit } from '../../../platform/database/after-commit.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';

/** The Bull job id of a case's step: the same everywhere, so a step is queued once (R-DUN-5). */
export const dunningJobId = (caseId: string, stepId: string): string => `dunning:${caseId}:${stepId}`;

/** A pending step and when it falls due. */
export interface ScheduledStep {
  caseId: string;
  stepId: string;
  dueAt: Date;
}

/**
 * Puts dunning steps on the queue. Real-time steps are Bull delayed jobs due at their time; test-clock
 * steps are queued once the clock reached them (`enqueueDue` after each `test_clock.ready`). The
 * database row of each step is the truth: a lost job (Redis flushed, a worker killed) is found again by
 * the catch-up, and a job that runs twice finds its step done.
 */
@Injectable()
export class DunningScheduler {
  private readonly logger = new Logger('Dunning');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly jobs: JobQueue,
    private readonly afterCommit: AfterCommit,
    private readonly clock: Clock,
  ) {}

  /** After the caller's commit: queues each step, delayed until it falls due (real time only). */
  scheduleAfterCommit(
    manager: EntityManager,
    steps: readonly ScheduledStep[],
    testClockNow: Date | null,
  ): void {
    this.afterCommit.run(manager, async () => {
      const now = this.clock.now().getTime();
      for (const step of steps) {
        if (testClockNow) {
          if (step.dueAt.getTime() > testClockNow.getTime()) continue;
          await this.queue(step, 0);
        } else {
          await this.queue(step, Math.max(0, step.dueAt.getTime() - now));
        }
      }
    });
  }

  /** After the caller's commit: removes the queued jobs of steps that will not run. */
  cancelAfterCommit(manager: EntityManager, caseId: string, stepIds: readonly string[]): void {
    if (stepIds.length === 0) return;
    this.afterCommit.run(manager, async () => {
      const queue = this.jobs.queueFor('dunning.run-step');
      for (const stepId of stepIds) {
        const job = await queue.getJob(dunningJobId(caseId, stepId));
        // A running job cannot be removed; it finds its step canceled.
        if (job && !(await job.isActive())) await job.remove().catch(() => undefined);
      }
    });
  }

  /**
   * Queues (again) every pending step of an open case that is due on its timeline (real time, or its
   * test clock's last known time) and not already waiting: what restarts, lost jobs and test-clock
   * advances left behind. `testClockId` limits it to the cases of one clock.
   */
  async enqueueDue(options: { testClockId?: string; limit?: number } = {}): Promise<number> {
    const rows: { case_id: string; step_id: string }[] = await this.db.query(
      `SELECT s.case_id, s.step_id
         FROM dunning_steps s
         JOIN dunning_cases c ON c.id = s.case_id
         LEFT JOIN dunning_test_clocks k ON k.test_clock_id = c.test_clock_id
        WHERE s.status = 'pending' AND c.status = 'open'
          AND ($2::text IS NULL OR c.test_clock_id = $2)
          AND s.due_at <= CASE WHEN c.test_clock_id IS NULL THEN $1::timestamptz ELSE k.frozen_time END
        ORDER BY s.due_at ASC
        LIMIT $3`,
      [this.clock.now(), options.testClockId ?? null, options.limit ?? 5000],
    );
    let queued = 0;
    for (const row of rows) {
      const outcome = await this.jobs.ensureQueued(
        'dunning.run-step',
        { caseId: row.case_id, stepId: row.step_id },
        dunningJobId(row.case_id, row.step_id),
      );
      if (outcome === 'queued') queued += 1;
    }
    if (queued > 0) this.logger.log({ msg: 'dunning steps queued by catch-up', queued, due: rows.length });
    return queued;
  }

  private async queue(step: ScheduledStep, delay: number): Promise<void> {
    await this.jobs.enqueue(
      'dunning.run-step',
      { caseId: step.caseId, stepId: step.stepId },
      { jobId: dunningJobId(step.caseId, step.stepId), delay },
    );
  }
}
