// Fixtures of the webhook transform specs: events the emulator delivered (API 2026-10-28.endive),
// captured as `fixtures/stripe-events.json` beside each module's specs. Not a spec itself.
import { readFileSync } from 'node:fs';
import type Stripe from 'stripe';

/**
 * The captured events of one fixture file, by name. Pass the file's URL from the spec, e.g.
 * `new URL('./fixtures/stripe-events.json', import.meta.url)`, so that each module keeps its own.
 */
export function loadStripeEvents(fixtureUrl: URL): Record<string, Stripe.Event> {
  return JSON.parse(readFileSync(fixtureUrl, 'utf8')) as Record<string, Stripe.Event>;
}

/** A deep copy of an event's object, to change fields for a case. */
export function objectOf<T>(event: Stripe.Event | undefined): T {
  if (!event) throw new Error('fixture missing');
  return structuredClone(event.data.object) as T;
}
