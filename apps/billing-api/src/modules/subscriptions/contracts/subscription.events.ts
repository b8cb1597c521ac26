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
