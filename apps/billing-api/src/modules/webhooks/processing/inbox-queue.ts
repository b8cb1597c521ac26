import { Injectable } from '@nestjs/common';
import type { Job, JobOptions, Queue } from 'bull';
import { AppConfig } from '../../../platform/config/app-config.js';
import { RequestContext } from '../../../platform/context/request-context.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';
import { JOBS, type JobEnvelope } from '../../../platform/queue/queue.registry.js';

const JOB = 'webhooks.process-event';

export class EnqueueTimeoutError extends Error {
  constructor(ms: number) {
    super(`enqueue did not finish within ${ms} ms`);
    this.name = 'EnqueueTimeoutError';
  }
}

/**
 * Puts inbox events on the `webhooks` queue. The job id is the event id, so Bull keeps at most one job
 * per event while it waits; attempts and backoff come from the configuration.
 */
@Injectable()
export class InboxQueue {
  constructor(
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
  ) {}

  private options(jobId: string): JobOptions {
    return {
      ...JOBS[JOB].options,
      attempts: this.config.webhooks.maxAttempts,
      backoff: { type: 'exponential', delay: this.config.webhooks.backoffMs },
      jobId,
    };
  }

  queue(): Queue<JobEnvelope<typeof JOB>> {
    return this.jobs.queueFor(JOB) as Queue<JobEnvelope<typeof JOB>>;
  }

  /**
   * Adds the job, waiting at most WEBHOOK_ENQUEUE_TIMEOUT_MS (Redis down must never hang a webhook
   * acknowledgement: the stored event is swept later). A late add that completes after the timeout is
   * harmless: the job id de-duplicates it against the sweeper's.
   */
  async enqueue(eventId: string, jobId: string = eventId): Promise<void> {
    const ms = this.config.webhooks.enqueueTimeoutMs;
    const add = this.queue().add(
      JOB,
      { correlationId: RequestContext.correlationId(), payload: { eventId } },
      this.options(jobId),
    );
    add.catch(() => undefined); // observed below or abandoned after the timeout
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        add,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new EnqueueTimeoutError(ms)), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Makes sure an unfinished inbox event has a job that will run it (sweeper, replay). A job that is
   * waiting, delayed or running is left alone; a finished job with the event's id is removed first
   * (Bull ignores an add whose id exists). `orphaned` says the row was found unlocked in `processing`
   * for too long: its job, if Bull still shows it active, belongs to a dead worker, so a recovery job
   * with a derived id runs the event now (the inbox row lock and status make a second run a no-op).
   */
  async ensureQueued(
    eventId: string,
    options: { orphaned?: boolean; attempt?: number } = {},
  ): Promise<'queued' | 'already_queued'> {
    const existing = (await this.queue().getJob(eventId)) as Job | null;
    if (existing) {
      const state = await existing.getState();
      if (state === 'waiting' || state === 'delayed' || state === 'paused') return 'already_queued';
      if (state === 'active') {
        if (!options.orphaned) return 'already_queued';
        await this.enqueue(eventId, `${eventId}:recover:${options.attempt ?? 0}`);
        return 'queued';
      }
      await existing.remove();
    }
    await this.enqueue(eventId);
    return 'queued';
  }
}
