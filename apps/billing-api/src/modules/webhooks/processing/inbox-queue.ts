import { Injectable } from '@nestjs/common';
import type { Job, JobOptions, Queue } from 'bull';
import { AppConfig } from '../../../platform/config/app-config.js';
import { RequestContext } from '../../../platform/context/request-context.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';
import { jobState } from '../../../platform/queue/job-state.js';
import { JOBS, type JobEnvelope } from '../../../platform/queue/queue.registry.js';

const ONE = 'webhooks.process-event';
const BATCH = 'webhooks.process-events';
type InboxJob = typeof ONE | typeof BATCH;

export class EnqueueTimeoutError extends Error {
  constructor(ms: number) {
    super(`enqueue did not finish within ${ms} ms`);
    this.name = 'EnqueueTimeoutError';
  }
}

/** How long an event deferred behind an older event of its object waits before it is tried again. */
const DEFERRED_DELAY_MS = 100;

/** A job that will still run: Bull holds it waiting, delayed, paused or running. */
const UNFINISHED = new Set(['waiting', 'delayed', 'paused', 'active']);

/**
 * Puts inbox events on the `webhooks` queue: the events of one intake group commit as one
 * `webhooks.process-events` job (its id is their `job_id` column), an event on its own as a
 * `webhooks.process-event` job whose id is the event id (sweeper, replay, the retry of an event that
 * failed in its batch). Bull keeps at most one job per id while it waits; attempts and backoff come from
 * the configuration.
 */
@Injectable()
export class InboxQueue {
  constructor(
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
  ) {}

  private options(
    name: InboxJob,
    jobId: string,
    extra: Pick<JobOptions, 'delay' | 'attempts'> = {},
  ): JobOptions {
    return {
      ...JOBS[name].options,
      attempts: this.config.webhooks.maxAttempts,
      backoff: { type: 'exponential', delay: this.config.webhooks.backoffMs },
      jobId,
      ...extra,
    };
  }

  queue(): Queue<JobEnvelope<InboxJob>> {
    return this.jobs.queueFor(ONE) as Queue<JobEnvelope<InboxJob>>;
  }

  /**
   * Adds the job, waiting at most WEBHOOK_ENQUEUE_TIMEOUT_MS (Redis down must never hang a webhook
   * acknowledgement: the stored event is swept later). A late add that completes after the timeout is
   * harmless: the job id de-duplicates it against the sweeper's.
   */
  private async add<N extends InboxJob>(
    name: N,
    payload: JobEnvelope<N>['payload'],
    options: JobOptions,
  ): Promise<void> {
    const ms = this.config.webhooks.enqueueTimeoutMs;
    const envelope = { correlationId: RequestContext.correlationId(), payload } as JobEnvelope<InboxJob>;
    const add = this.queue().add(name, envelope, options);
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

  /** One event on its own (job id = the event id unless given). */
  async enqueue(eventId: string, jobId: string = eventId): Promise<void> {
    await this.add(ONE, { eventId }, this.options(ONE, jobId));
  }

  /**
   * The events of one intake group commit, as one job with the id stored in their `job_id`, with the
   * correlation id of each one's delivery.
   */
  async enqueueBatch(eventIds: string[], correlationIds: string[], jobId: string): Promise<void> {
    await this.add(BATCH, { eventIds, correlationIds }, this.options(BATCH, jobId));
  }

  /**
   * The retry of an event that failed in its batch (its `attempts` so far): alone, after the backoff Bull
   * would have waited, with the attempts that are left.
   */
  async scheduleRetry(eventId: string, attempts: number): Promise<void> {
    const { maxAttempts, backoffMs } = this.config.webhooks;
    await this.requeue(eventId, {
      delay: backoffMs * 2 ** Math.max(0, attempts - 1),
      attempts: Math.max(1, maxAttempts - attempts),
    });
  }

  /** An event of a batch deferred behind an older event of its object: alone, shortly (alone, it is not deferred again). */
  async scheduleDeferred(eventId: string): Promise<void> {
    await this.requeue(eventId, { delay: DEFERRED_DELAY_MS, attempts: this.config.webhooks.maxAttempts });
  }

  /**
   * An event on its own again, as a job whose id is the event id, so that the sweeper sees it waiting; a
   * finished job of that id (an earlier replay or retry) is removed first, one still unfinished kept.
   */
  private async requeue(eventId: string, options: Pick<JobOptions, 'delay' | 'attempts'>): Promise<void> {
    const existing = (await this.queue().getJob(eventId)) as Job | null;
    if (existing) {
      if (UNFINISHED.has(await jobState(existing))) return;
      await existing.remove();
    }
    await this.add(ONE, { eventId }, this.options(ONE, eventId, options));
  }

  /**
   * Makes sure an unfinished inbox event has a job that will run it (sweeper, replay). A job that is
   * waiting, delayed or running, its own or its batch's (`batchJobId`, the row's `job_id`), is left
   * alone; a finished job with the event's id is removed first (Bull ignores an add whose id exists).
   * `orphaned` says the row was found unlocked in `processing` for too long: its job, if Bull still
   * shows it active, belongs to a dead worker, so a recovery job with a derived id runs the event now
   * (the inbox row's claim and status make a second run a no-op).
   */
  async ensureQueued(
    eventId: string,
    options: { orphaned?: boolean; attempt?: number; batchJobId?: string | null } = {},
  ): Promise<'queued' | 'already_queued'> {
    const own = (await this.queue().getJob(eventId)) as Job | null;
    const batch = options.batchJobId ? ((await this.queue().getJob(options.batchJobId)) as Job | null) : null;
    let active = false;
    for (const job of [own, batch]) {
      if (!job) continue;
      const state = await jobState(job);
      if (state === 'active') active = true;
      else if (UNFINISHED.has(state)) return 'already_queued';
    }
    if (active) {
      if (!options.orphaned) return 'already_queued';
      await this.enqueue(eventId, `${eventId}:recover:${options.attempt ?? 0}`);
      return 'queued';
    }
    if (own) await own.remove();
    await this.enqueue(eventId);
    return 'queued';
  }
}
