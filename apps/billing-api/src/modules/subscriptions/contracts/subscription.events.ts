import type { SubscriptionEvent, SubscriptionEventType } from '@billing/domain';
import { declareDomainEvents, domainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';

/** Which subscription and account an event is about. */
export interface SubscriptionRef {
  subscriptionId: string;
  accountId: string;
  stripeSubscriptionId: string;
}

/**
 * The subscription machine's events (libs/domain subscription.events.ts: past tense, versioned,
 * primitives), each with the subscription and account it is about. Published in the transaction that
 * applied the transition, by whichever path applied it (a Stripe event, an API command, a scheduler).
 */
export type SubscriptionEventPayloads = {
  [E in SubscriptionEvent as E['type']]: E & SubscriptionRef;
};

declare module '../../../platform/events/domain-event.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds the subscription events
  interface DomainEventPayloads extends SubscriptionEventPayloads {}
}

/** Every subscription event type; a new one in the domain does not compile until it is listed here. */
const TYPES = [
  'subscription.trial_started',
  'subscription.activated',
  'subscription.trial_converted',
  'subscription.trial_expired',
  'subscription.cancellation_scheduled',
  'subscription.resumed',
  'subscription.canceled',
  'subscription.payment_failed',
  'subscription.renewed',
  'subscription.reactivated',
  'subscription.suspended',
  'subscription.expired',
  'subscription.plan_changed',
  'subscription.plan_change_scheduled',
  'subscription.plan_change_withdrawn',
  'subscription.seats_changed',
] as const satisfies readonly SubscriptionEventType[];
type Unlisted = Exclude<SubscriptionEventType, (typeof TYPES)[number]>;
const everyTypeListed: [Unlisted] extends [never] ? true : Unlisted = true;

export const SUBSCRIPTION_EVENTS = everyTypeListed && declareDomainEvents('subscriptions', TYPES);

/** The domain event of a machine event about this subscription. */
export function subscriptionEvent(event: SubscriptionEvent, ref: SubscriptionRef): DomainEvent {
  return domainEvent(event.type, { ...event, ...ref });
}

/**
 * Stripe's notice that a trial ends within three days (`customer.subscription.trial_will_end`, sent
 * three days ahead on the subscription's clock, a test clock's under a test clock). Not a state change
 * (the machine has no input for it): announced beside the machine's events, for the trial-ending
 * reminder. Published once per delivery of the notice while the subscription is trialing; listeners
 * key their effect by the subscription.
 */
export interface SubscriptionTrialWillEnd extends SubscriptionRef {
  trialEnd: string;
  planId: string | null;
  occurredAt: string;
}

declare module '../../../platform/events/domain-event.js' {
  interface DomainEventPayloads {
    'subscription.trial_will_end': SubscriptionTrialWillEnd;
  }
}

export const SUBSCRIPTION_NOTICES = declareDomainEvents('subscriptions', ['subscription.trial_will_end']);
