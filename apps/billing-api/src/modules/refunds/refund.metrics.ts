import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsRegistry } from '../../platform/metrics/metrics.registry.js';
import type { RefundOrmEntity } from './persistence/refund.orm-entity.js';

/** Refunds by outcome (R-OPS-3), on the process's registry. */
@Injectable()
export class RefundMetrics {
  private readonly statusChanges: Counter<'status'>;

  constructor(metrics: MetricsRegistry) {
    this.statusChanges = metrics.counter({
      name: 'billing_refund_status_changes_total',
      help:
        'Committed refund status changes, by the status moved to (succeeded, failed, canceled, ...), ' +
        'whichever path made them (the refunds API or a webhook, refunds made in the dashboard included).',
      labelNames: ['status'] as const,
    });
  }

  statusChanged(status: RefundOrmEntity['status']): void {
    this.statusChanges.inc({ status });
  }
}
