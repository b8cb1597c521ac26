import type { DomainEventBase } from '../kernel/events.js';
import type { SubscriptionState } from './subscription.types.js';

interface Base<T extends string> extends DomainEventBase<T> {
  readonly fromState: SubscriptionState;
  readonly toState: SubscriptionState;
}

/** Subscription domain events: past tense, version 1, primitives only (dates as ISO strings). */
export type SubscriptionEvent =
  | (Base<'subscription.trial_started'> & {
      readonly planId: string;
      readonly interval: string;
      readonly trialEnd: string;
    })
  | (Base<'subscription.activated'> & {
      readonly planId: string;
      readonly interval: string;
      readonly seats: number;
      readonly currentPeriodEnd: string;
    })
  | (Base<'subscription.trial_converted'> & { readonly planId: string; readonly currentPeriodEnd: string })
  | (Base<'subscription.trial_expired'> & { readonly planId: string })
  | (Base<'subscription.cancellation_scheduled'> & { readonly effectiveAt: string | null })
  | Base<'subscription.resumed'>
  | (Base<'subscription.canceled'> & { readonly planId: string })
  | (Base<'subscription.payment_failed'> & { readonly failedAttempts: number; readonly pastDueSince: string })
  | (Base<'subscription.renewed'> & { readonly currentPeriodEnd: string | null })
  | Base<'subscription.reactivated'>
  | (Base<'subscription.suspended'> & { readonly pastDueSince: string; readonly failedAttempts: number })
  | (Base<'subscription.expired'> & { readonly planId: string })
  | (Base<'subscription.plan_changed'> & {
      readonly fromPlanId: string;
      readonly toPlanId: string;
      readonly fromInterval: string | null;
      readonly toInterval: string;
      readonly direction: 'upgrade' | 'downgrade';
    })
  | (Base<'subscription.plan_change_scheduled'> & {
      readonly fromPlanId: string;
      readonly toPlanId: string;
      readonly toInterval: string;
      readonly effectiveAt: string;
    })
  | (Base<'subscription.plan_change_withdrawn'> & {
      readonly planId: string;
      readonly withdrawnPlanId: string;
      readonly withdrawnInterval: string;
    })
  | (Base<'subscription.seats_changed'> & { readonly fromSeats: number; readonly toSeats: number });

export type SubscriptionEventType = SubscriptionEvent['type'];
