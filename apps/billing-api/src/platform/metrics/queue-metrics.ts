import { Injectable, type OnModuleInit } from '@nestjs/common';
import { JobQueue } from '../queue/job-queue.js';
import { MetricsRegistry } from './metrics.registry.js';

const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** Depth of every queue of the registry, read from Redis when Prometheus scrapes (R-WH-7). */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    private readonly jobs: JobQueue,
    private readonly metrics: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    const jobs = this.jobs;
    this.metrics.gauge({
      name: 'billing_queue_jobs',
      help: 'Jobs per queue and state (waiting, active, delayed, failed), read on scrape.',
      labelNames: ['queue', 'state'] as const,
      async collect() {
        for (const { name, queue } of jobs.all()) {
          // A scrape must answer even when Redis does not: report nothing rather than hang.
          const counts = await withTimeout(queue.getJobCounts(), 1000).catch(() => null);
          if (!counts) continue;
          for (const state of STATES) this.set({ queue: name, state }, counts[state]);
        }
      },
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
