import type { JobOptions } from 'bull';

/**
 * Every queue, job, payload type and job option in one place (STYLE.md "Async work"). A job declared
 * here must have exactly one handler (`@HandlesJob`), or a worker refuses to start.
 */
export const QUEUES = {
  maintenance: 'maintenance',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** The payload of each job. Everything in a payload is a primitive or a plain object (it goes through Redis). */
export interface JobPayloads {
  'maintenance.purge-idempotency-keys': Record<string, never>;
}
export type JobName = keyof JobPayloads;

export interface JobDefinition {
  queue: QueueName;
  /** Concurrency of the handler in one worker process. */
  concurrency: number;
  options: JobOptions;
  /** Repeatable jobs are scheduled by every worker; Bull keeps one schedule per repeat key. */
  repeat?: { every: number };
}

const retried: JobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: 1000,
  removeOnFail: 5000,
};

export const JOBS = {
  'maintenance.purge-idempotency-keys': {
    queue: QUEUES.maintenance,
    concurrency: 1,
    options: { ...retried, attempts: 3 },
    repeat: { every: 60 * 60 * 1000 },
  },
} as const satisfies Record<JobName, JobDefinition>;

/** What a job carries besides its payload: the correlation id of the request that caused it (R-API-7). */
export interface JobEnvelope<N extends JobName> {
  correlationId: string;
  payload: JobPayloads[N];
}
