import type { PaymentStatus } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsRegistry } from '../../platform/metrics/metrics.registry.js';

/** Payments by outcome (R-OPS-3), on the process's registry. */
@Injectable()
export class PaymentMetrics {
  private readonly statusChanges: Counter<'status'>;

  constructor(metrics: MetricsRegistry) {
    this.statusChanges = metrics.counter({
      name: 'billing_payment_status_changes_total',
      help:
        'Committed payment status changes, by the status moved to (succeeded, failed, requires_action, ' +
        'refunded, ...); counted by the process that committed them, whichever path (API answer, webhook, janitor).',
      labelNames: ['status'] as const,
    });
  }

  statusChanged(status: PaymentStatus): void {
    this.statusChanges.inc({ status });
  }
}
