import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsRegistry } from '../../platform/metrics/metrics.registry.js';

/** Dunning (R-DUN-7, R-OPS-3), on the process's registry. */
@Injectable()
export class DunningMetrics {
  private readonly steps: Counter<'step' | 'retry_outcome'>;

  constructor(metrics: MetricsRegistry, @InjectDataSource() db: DataSource) {
    this.steps = metrics.counter({
      name: 'billing_dunning_steps_total',
      help: 'Dunning steps this process ran, by step and retry outcome (none when the step retries nothing).',
      labelNames: ['step', 'retry_outcome'] as const,
    });
    metrics.gauge({
      name: 'billing_dunning_cases',
      help: 'Open dunning cases by the last step they ran (`opened` before the first); read from PostgreSQL on scrape.',
      labelNames: ['step'] as const,
      async collect() {
        const rows = await db
          .query<{ step: string; n: string }[]>(
            `SELECT COALESCE(last.step_id, 'opened') AS step, count(*)::text AS n
               FROM dunning_cases c
               LEFT JOIN LATERAL (
                 SELECT s.step_id FROM dunning_steps s
                  WHERE s.case_id = c.id AND s.status = 'done'
                  ORDER BY s.position DESC LIMIT 1) last ON true
              WHERE c.status = 'open'
              GROUP BY 1`,
          )
          .catch(() => null);
        if (!rows) return;
        this.reset();
        for (const row of rows) this.set({ step: row.step }, Number(row.n));
      },
    });
    metrics.gauge({
      name: 'billing_dunning_overdue_steps',
      help: 'Pending dunning steps of real-time cases due more than 15 minutes ago (the worker or the queue is not running them); read on scrape.',
      async collect() {
        const rows = await db
          .query<{ n: string }[]>(
            `SELECT count(*)::text AS n FROM dunning_steps s JOIN dunning_cases c ON c.id = s.case_id
              WHERE s.status = 'pending' AND c.status = 'open' AND c.test_clock_id IS NULL
                AND s.due_at < now() - interval '15 minutes'`,
          )
          .catch(() => null);
        if (rows?.[0]) this.set(Number(rows[0].n));
      },
    });
  }

  stepRan(step: string, retryOutcome: 'succeeded' | 'failed' | null): void {
    this.steps.inc({ step, retry_outcome: retryOutcome ?? 'none' });
  }
}
