import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import type {
  StripeEventContext,
  StripeEventOutcome,
} from '../../apps/billing-api/src/modules/webhooks/contracts/stripe-event-handler.js';
import { ProcessStripeEvent } from '../../apps/billing-api/src/modules/webhooks/processing/process-stripe-event.js';
import type { TestApp } from '../support/test-app.js';

/** Helpers of the mirror suites: handlers called directly inside a real transaction. */

export type HandlerFn = (
  event: Stripe.Event,
  ctx: StripeEventContext,
) => Promise<StripeEventOutcome | undefined>;

/**
 * Runs a handler the way the dispatcher does: one transaction, the real EntityManager, and `refetch`
 * through the app's real gateway (pointed at the emulator). `created` overrides the event's time to
 * order events that the emulator produced within one second. Counts the re-reads.
 */
export class HandlerRunner {
  readonly refetched: string[] = [];
  private readonly processor: ProcessStripeEvent;

  constructor(private readonly t: TestApp) {
    this.processor = t.app.get(ProcessStripeEvent, { strict: false });
  }

  async run(
    fn: HandlerFn,
    event: Stripe.Event,
    created = event.created,
  ): Promise<StripeEventOutcome | undefined> {
    return this.t.db.transaction((manager) =>
      fn(event, {
        manager,
        event: { id: event.id, type: event.type, created, livemode: event.livemode },
        refetch: (id) => {
          this.refetched.push(id);
          return this.processor.refetch(id);
        },
      }),
    );
  }
}

/** All events of the account (newest first from Stripe, returned oldest first), optionally by type. */
export async function eventsOf(stripe: Stripe, types?: string[]): Promise<Stripe.Event[]> {
  const all: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100, ...(types ? { types } : {}) })) all.push(event);
  return all.reverse();
}

/** The events about one object, oldest first. */
export function about(events: Stripe.Event[], objectId: string, type?: string): Stripe.Event[] {
  return events.filter(
    (e) => (e.data.object as { id?: string }).id === objectId && (type === undefined || e.type === type),
  );
}

export function only<T>(list: T[], what: string): T {
  if (list.length !== 1) throw new Error(`expected exactly one ${what}, got ${list.length}`);
  return list[0] as T;
}

/** The one event of `type` among `events` (throws unless there is exactly one). */
export function oneOfType(events: Stripe.Event[], type: string): Stripe.Event {
  return only(
    events.filter((e) => e.type === type),
    type,
  );
}

export async function auditActions(
  db: DataSource,
  entityId: string,
): Promise<
  { action: string; actor_type: string; actor_id: string | null; before: unknown; after: unknown }[]
> {
  return db.query(
    `SELECT action, actor_type, actor_id, before, after FROM audit_log WHERE entity_id = $1 ORDER BY id`,
    [entityId],
  );
}

/** Creates the catalogue prices the subscription tests use (lookup keys as catalogue sync makes them). */
export async function createCatalogue(
  stripe: Stripe,
): Promise<{ proMonth: string; proMonthSeat: string; proYear: string; businessYear: string }> {
  const product = await stripe.products.create({ name: 'Plans' });
  const price = (amount: number, interval: 'month' | 'year', lookup: string) =>
    stripe.prices.create({
      product: product.id,
      unit_amount: amount,
      currency: 'usd',
      recurring: { interval },
      lookup_key: lookup,
    });
  const [proMonth, proMonthSeat, proYear, businessYear] = await Promise.all([
    price(2900, 'month', 'pro_month_base'),
    price(600, 'month', 'pro_month_seat'),
    price(29000, 'year', 'pro_year_base'),
    price(99000, 'year', 'business_year_base'),
  ]);
  return {
    proMonth: proMonth.id,
    proMonthSeat: proMonthSeat.id,
    proYear: proYear.id,
    businessYear: businessYear.id,
  };
}
