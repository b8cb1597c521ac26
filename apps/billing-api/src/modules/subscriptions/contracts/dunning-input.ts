import type { GracePolicy, SubscriptionState } from '@billing/domain';

/** What dunning reports of a subscription (see SubscriptionsFacade.applyDunningInput). */
export type DunningInput =
  | { type: 'payment_failed'; at: Date; /** false: the attempt was already counted. */ counted?: boolean }
  | { type: 'grace_exhausted'; at: Date; grace: GracePolicy }
  | { type: 'payment_succeeded'; at: Date };

/** The subscription's state before and after (equal when nothing changed or the machine refused). */
export interface DunningInputResult {
  from: SubscriptionState;
  to: SubscriptionState;
}
