import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsRegistry } from '../../platform/metrics/metrics.registry.js';

/** What one send attempt of an outbox e-mail came to. */
export type EmailOutcome = 'sent' | 'suppressed' | 'retrying' | 'failed';

/** E-mails by template and outcome (R-OPS-3), on the process's registry. */
@Injectable()
export class NotificationMetrics {
  private readonly emails: Counter<'template' | 'outcome'>;

  constructor(metrics: MetricsRegistry) {
    this.emails = metrics.counter({
      name: 'billing_emails_total',
      help:
        'Send attempts of outbox e-mails by template and outcome: sent (the SMTP server took it), ' +
        'suppressed (a reminder the account unsubscribed from), retrying (failed, will be retried), ' +
        'failed (the last attempt failed; the row is marked failed).',
      labelNames: ['template', 'outcome'] as const,
    });
  }

  attempted(template: string, outcome: EmailOutcome): void {
    this.emails.inc({ template, outcome });
  }
}
