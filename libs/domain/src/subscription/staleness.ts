import { DomainInvariantError } from '../kernel/errors.js';

/** What the app knows about a Stripe object update: the event's `created` (unix seconds). */
export interface ObjectUpdateMarker {
  readonly eventCreated: number;
  /**
   * Optional monotonic counter of the object's state, when the caller has one (e.g. a version the
   * emulator or a refetch provides). It breaks ties within one second.
   */
  readonly objectVersion?: number;
  /**
   * Optional: the Stripe time (unix seconds) of the last change the app made at Stripe itself and
   * wrote without waiting for its event. An event created up to then may describe the object before
   * that change, or after it: it is re-read, never applied as it stands (and never skipped for it).
   */
  readonly appChangedAt?: number;
}

/** apply it, skip it (older than or equal to what was applied), or re-read the object from Stripe. */
export type StalenessDecision = 'apply' | 'skip_stale' | 'refetch';

function assertSeconds(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DomainInvariantError('eventCreated must be whole unix seconds', { eventCreated: value });
  }
}

/**
 * R-SM-3: an event older than the last applied one never moves the subscription backwards. Newer
 * -> apply; older -> skip_stale; the same second cannot be ordered by `created` alone, so it is
 * decided by objectVersion when both sides carry one (equal versions are a duplicate), and
 * otherwise answered with refetch: re-read the object from Stripe and apply that. An event not newer
 * than a change the app made at Stripe itself (`appChangedAt`) is re-read too: its payload may be
 * older than what the app already wrote.
 */
export function decideStaleness(input: {
  lastApplied: ObjectUpdateMarker | null;
  incoming: ObjectUpdateMarker;
}): StalenessDecision {
  const { lastApplied, incoming } = input;
  assertSeconds(incoming.eventCreated);
  if (lastApplied === null) return 'apply';
  assertSeconds(lastApplied.eventCreated);
  if (incoming.eventCreated < lastApplied.eventCreated) return 'skip_stale';
  if (lastApplied.appChangedAt !== undefined && incoming.eventCreated <= lastApplied.appChangedAt) {
    return 'refetch';
  }
  if (incoming.eventCreated > lastApplied.eventCreated) return 'apply';
  if (incoming.objectVersion !== undefined && lastApplied.objectVersion !== undefined) {
    return incoming.objectVersion > lastApplied.objectVersion ? 'apply' : 'skip_stale';
  }
  return 'refetch';
}
