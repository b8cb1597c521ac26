import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsRegistry } from '../../platform/metrics/metrics.registry.js';

/** Subscription transitions (R-SM, R-OPS-3), on the process's registry. */
@Injectable()
export class SubscriptionMetrics {
  private readonly refused: Counter<'from' | 'to'>;
  private readonly leftToMirror: Counter;

  constructor(metrics: MetricsRegistry) {
    this.refused = metrics.counter({
      name: 'billing_subscription_transitions_refused_total',
      help:
        'Subscription changes the state machine refused (e.g. Stripe reports a state no transition reaches); ' +
        'each is audited as subscription.transition_refused and left for reconciliation.',
      labelNames: ['from', 'to'] as const,
    });
    this.leftToMirror = metrics.counter({
      name: 'billing_plan_changes_left_to_mirror_total',
      help:
        'Plan or seat changes made at Stripe whose machine step was left to the webhook mirror because the ' +
        "subscription's row stayed locked (the mirror applies the same change from Stripe's report).",
    });
  }

  planChangeLeftToMirror(): void {
    this.leftToMirror.inc();
  }

  transitionRefused(from: string, to: string): void {
    this.refused.inc({ from, to });
  }
}
