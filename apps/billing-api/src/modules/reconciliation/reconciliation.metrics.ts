import type { DriftKind } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Counter, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsRegistry } from '../../platform/metrics/metrics.registry.js';

/**
 * Drift metrics (R-REC-3, R-OPS-3). The gauges are read from the database on scrape, so every process
 * reports the same numbers whichever worker ran: alert rules take their `max`, not their sum.
 */
@Injectable()
export class ReconciliationMetrics {
  private readonly duration: Histogram<'outcome'>;
  private readonly unsafe: Counter<'kind'>;
  private readonly pageRetries: Counter<'phase'>;
  private readonly resumes: Counter;

  constructor(metrics: MetricsRegistry, @InjectDataSource() db: DataSource) {
    this.duration = metrics.histogram({
      name: 'billing_reconciliation_run_duration_seconds',
      help: 'Duration of reconciliation runs, by outcome (completed, failed), counted by the process that ran them.',
      labelNames: ['outcome'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800],
    });
    this.unsafe = metrics.counter({
      name: 'billing_drift_unsafe_found_total',
      help: 'Unsafe drifts found (left for an admin), by kind, counted by the process whose run found them.',
      labelNames: ['kind'] as const,
    });
    this.pageRetries = metrics.counter({
      name: 'billing_reconciliation_page_retries_total',
      help: 'Pages of reconciliation runs retried from the stored cursor after a failure (Stripe 5xx or network error after the SDK retries, database), by pass.',
      labelNames: ['phase'] as const,
    });
    this.resumes = metrics.counter({
      name: 'billing_reconciliation_runs_resumed_total',
      help: 'Reconciliation runs resumed from their stored cursor by this process after their worker stopped.',
    });
    metrics.gauge({
      name: 'billing_drift_findings',
      help: 'Findings of the latest completed reconciliation run, by kind and whether they were safe to repair.',
      labelNames: ['kind', 'safe'] as const,
      async collect() {
        const rows: { kind: string; safe: boolean; n: string }[] | null = await quietly(
          db,
          `SELECT f.kind, f.safe, count(*) AS n FROM reconciliation_findings f
            WHERE f.run_id = (SELECT id FROM reconciliation_runs WHERE status = 'completed'
                               ORDER BY finished_at DESC, window_end DESC LIMIT 1)
            GROUP BY f.kind, f.safe`,
        );
        if (!rows) return;
        this.reset();
        for (const row of rows) this.set({ kind: row.kind, safe: String(row.safe) }, Number(row.n));
      },
    });
    metrics.gauge({
      name: 'billing_drift_awaiting_admin',
      help: 'Findings waiting for an admin (unsafe drifts, and safe ones whose repair did not apply), of every run.',
      async collect() {
        const rows: { n: string }[] | null = await quietly(
          db,
          `SELECT count(*) AS n FROM reconciliation_findings WHERE status IN ('open', 'repair_failed')`,
        );
        if (rows) this.set(Number(rows[0]?.n ?? 0));
      },
    });
    metrics.gauge({
      name: 'billing_reconciliation_last_success_timestamp_seconds',
      help: 'When the latest reconciliation run completed (Unix seconds; 0 before the first).',
      async collect() {
        const rows: { t: string | null }[] | null = await quietly(
          db,
          `SELECT extract(epoch FROM max(finished_at)) AS t FROM reconciliation_runs WHERE status = 'completed'`,
        );
        if (rows) this.set(Number(rows[0]?.t ?? 0));
      },
    });
  }

  runFinished(outcome: 'completed' | 'failed', seconds: number): void {
    this.duration.observe({ outcome }, seconds);
  }

  pageRetried(phase: string): void {
    this.pageRetries.inc({ phase });
  }

  runResumed(): void {
    this.resumes.inc();
  }

  unsafeFound(kind: DriftKind): void {
    this.unsafe.inc({ kind });
  }
}

/** A scrape must not fail because the database does not answer: the gauge keeps its last value. */
async function quietly<T>(db: DataSource, query: string): Promise<T[] | null> {
  try {
    return await db.query<T[]>(query);
  } catch {
    return null;
  }
}
