import { getQueueToken } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Job, JobOptions, Queue } from 'bull';
import { RequestContext } from '../context/request-context.js';
import { jobState } from './job-state.js';
import {
  JOBS,
  QUEUES,
  type JobEnvelope,
  type JobName,
  type JobPayloads,
  type QueueName,
} from './queue.registry.js';

/** Enqueues declared jobs with their options and the current correlation id. */
@Injectable()
export class JobQueue {
  /** Queues by name, looked up once: a non-strict `ModuleRef.get` searches every module. */
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly moduleRef: ModuleRef) {}

  /** The Bull queue of a declared job. */
  queueFor(name: JobName): Queue {
    return this.queue(JOBS[name].queue);
  }

  /** A queue of the registry by its name. */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Every queue of the registry (QUEUES), for the queue board and the depth metrics. */
  all(): { name: QueueName; queue: Queue }[] {
    return Object.values(QUEUES).map((name) => ({ name, queue: this.queue(name) }));
  }

  /** `jobId` should be a deterministic idempotency key (e.g. a Stripe event id): Bull ignores a second add. */
  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    options: Pick<JobOptions, 'jobId' | 'delay'> = {},
  ): Promise<Job<JobEnvelope<N>>> {
    const envelope: JobEnvelope<N> = { correlationId: RequestContext.correlationId(), payload };
    const queue = this.queueFor(name) as Queue<JobEnvelope<N>>;
    return queue.add(name, envelope, { ...JOBS[name].options, ...options });
  }

  /**
   * For sweepers of outbox tables: enqueues the job unless one with this id is still waiting, delayed,
   * paused or running. A finished job with the same id would make Bull ignore the add, so it is removed
   * first.
   */
  async ensureQueued<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    jobId: string,
  ): Promise<'queued' | 'already_queued'> {
    const existing = await this.queueFor(name).getJob(jobId);
    if (existing) {
      const state = await jobState(existing);
      if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'paused')
        return 'already_queued';
      await existing.remove();
    }
    await this.enqueue(name, payload, { jobId });
    return 'queued';
  }
}
