import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Counter, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsRegistry } from '../../platform/metrics/metrics.registry.js';

/** The webhook metrics of R-WH-7, on the process's registry. */
@Injectable()
export class WebhookMetrics {
  readonly received: Counter<'type'>;
  readonly duplicates: Counter<'type'>;
  readonly signatureFailures: Counter;
  readonly lag: Histogram<'outcome'>;
  readonly deadLettered: Counter<'type'>;

  constructor(metrics: MetricsRegistry, @InjectDataSource() db: DataSource) {
    this.received = metrics.counter({
      name: 'billing_webhooks_received_total',
      help: 'Verified Stripe webhook deliveries stored for the first time, by event type.',
      labelNames: ['type'] as const,
    });
    this.duplicates = metrics.counter({
      name: 'billing_webhooks_duplicates_total',
      help: 'Verified deliveries of an event already in the inbox (acknowledged, nothing stored).',
      labelNames: ['type'] as const,
    });
    this.signatureFailures = metrics.counter({
      name: 'billing_webhooks_signature_failures_total',
      help: 'Webhook deliveries refused with 400 because the Stripe-Signature did not verify.',
    });
    this.lag = metrics.histogram({
      name: 'billing_webhook_processing_lag_seconds',
      help: 'processed_at - event created, per finished event (observed by the worker that finished it).',
      labelNames: ['outcome'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    });
    this.deadLettered = metrics.counter({
      name: 'billing_webhook_dead_lettered_total',
      help: 'Events this process moved to the dead letters, by type.',
      labelNames: ['type'] as const,
    });
    metrics.gauge({
      name: 'billing_webhook_dead_letters',
      help: 'Inbox events in status dead (read from PostgreSQL on scrape).',
      async collect() {
        const rows = await db
          .query<{ n: string }[]>(`SELECT count(*)::text AS n FROM webhook_events WHERE status = 'dead'`)
          .catch(() => null);
        if (rows?.[0]) this.set(Number(rows[0].n));
      },
    });
  }
}
