import { describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { loadStripeEvents, objectOf } from '../../../../test-support/stripe-fixtures.js';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import {
  subscriptionStateOf,
  transformStripeSubscription,
  withCatalogPlan,
} from './transform-stripe-subscription.js';

/** Events the emulator delivered (API 2026-10-28.endive), captured as fixtures beside this spec. */
const events = loadStripeEvents(new URL('../webhooks/fixtures/stripe-events.json', import.meta.url));
const NOW = new Date('2026-11-22T12:00:00Z');
const stateOf = (sub: Stripe.Subscription, pastDueSince: Date | null = null) =>
  subscriptionStateOf(transformStripeSubscription(sub), { pastDueSince, now: NOW });

describe('transformStripeSubscription', () => {
  it('reads plan and interval from the base price lookup key, seats from the seat item, periods from the items', () => {
    const sub = objectOf<Stripe.Subscription>(events.updated_active);
    const base = sub.items.data.find((i) => i.price.lookup_key === 'pro_month_base')!;
    const values = transformStripeSubscription(sub);
    expect(values).toMatchObject({
      stripeSubscriptionId: sub.id,
      stripeCustomerId: sub.customer,
      stripeStatus: 'active',
      planId: 'pro',
      interval: 'month',
      basePriceId: base.price.id,
      seats: 2,
      currency: 'usd',
      cancelAtPeriodEnd: false,
      endedAt: null,
      metadataAccountId: '11111111-1111-1111-1111-111111111111',
    });
    expect(values.currentPeriodStart?.getTime()).toBe(base.current_period_start * 1000);
    expect(values.currentPeriodEnd?.getTime()).toBe(base.current_period_end * 1000);
    expect(values.seatPriceId).toMatch(/^price_/);
  });

  it('maps the whole life of a subscription to app states', () => {
    expect(stateOf(objectOf(events.created))).toBe('free'); // incomplete: first invoice not paid yet
    expect(stateOf(objectOf(events.updated_active))).toBe('active');
    expect(stateOf(objectOf(events.updated_cancel_at_period_end))).toBe('canceled_pending');
    expect(stateOf(objectOf(events.deleted))).toBe('canceled_immediately'); // ended before its period end
    expect(stateOf(objectOf(events.trial_created))).toBe('trialing');
  });

  it('reads cancellation fields and the seat quantity after a change', () => {
    const values = transformStripeSubscription(objectOf(events.updated_cancel_at_period_end));
    expect(values).toMatchObject({
      cancelAtPeriodEnd: true,
      cancellationReason: 'cancellation_requested',
      seats: 3,
    });
    expect(values.cancelAt).toEqual(values.currentPeriodEnd);
    const deleted = transformStripeSubscription(objectOf(events.deleted));
    expect(deleted.stripeStatus).toBe('canceled');
    expect(deleted.endedAt).not.toBeNull();
  });

  it('reads the trial of a trialing subscription without a seat item', () => {
    const sub = objectOf<Stripe.Subscription>(events.trial_created);
    const values = transformStripeSubscription(sub);
    expect(values).toMatchObject({ planId: 'pro', interval: 'month', seats: 0, seatPriceId: null });
    expect(values.trialEnd?.getTime()).toBe(sub.trial_end! * 1000);
  });

  it('keeps past_due until the grace period is over, then suspended', () => {
    const sub = {
      ...objectOf<Stripe.Subscription>(events.updated_active),
      status: 'past_due',
    } as Stripe.Subscription;
    expect(stateOf(sub, new Date(NOW.getTime() - 2 * 86_400_000))).toBe('past_due');
    expect(stateOf(sub, new Date(NOW.getTime() - 8 * 86_400_000))).toBe('suspended');
    expect(stateOf({ ...sub, status: 'unpaid' })).toBe('suspended');
    expect(stateOf({ ...sub, status: 'paused' })).toBe('expired');
  });

  it('expires a subscription that ran out its period', () => {
    const sub = objectOf<Stripe.Subscription>(events.deleted);
    const end = sub.items.data[0]!.current_period_end;
    expect(stateOf({ ...sub, ended_at: end, cancel_at_period_end: true })).toBe('expired');
    expect(
      stateOf({
        ...sub,
        cancellation_details: {
          comment: null,
          feedback: null,
          feedback_option: null,
          reason: 'payment_failed',
        },
      }),
    ).toBe('canceled_immediately');
  });

  it('leaves plan and interval null when no price carries a catalogue lookup key', () => {
    const sub = objectOf<Stripe.Subscription>(events.updated_active);
    for (const item of sub.items.data) item.price.lookup_key = 'legacy_gold';
    const values = transformStripeSubscription(sub);
    expect(values).toMatchObject({ planId: null, interval: null, seats: 0, basePriceId: null });
    // The period still comes from an item.
    expect(values.currentPeriodEnd).not.toBeNull();
  });

  it('lists every item with its price id, quantity, lookup key and metadata for the catalogue', () => {
    const sub = objectOf<Stripe.Subscription>(events.updated_active);
    const values = transformStripeSubscription(sub);
    expect(values.items).toEqual(
      sub.items.data.map((i) => ({
        priceId: i.price.id,
        quantity: i.quantity,
        lookupKey: i.price.lookup_key,
        metadata: i.price.metadata,
      })),
    );
    expect(values.items.map((i) => i.lookupKey).sort()).toEqual(['pro_month_base', 'pro_month_seat']);
  });

  it("takes plan, interval, prices and seats from the catalogue's reading, or none", () => {
    const values = transformStripeSubscription(objectOf(events.updated_active));
    const planned = withCatalogPlan(values, {
      planId: 'business',
      interval: 'year',
      basePriceId: 'price_old_business',
      seatPriceId: null,
      seats: 0,
    });
    expect(planned).toMatchObject({
      planId: 'business',
      interval: 'year',
      basePriceId: 'price_old_business',
      seatPriceId: null,
      seats: 0,
      stripeStatus: 'active',
    });
    expect(withCatalogPlan(values, null)).toMatchObject({
      planId: null,
      interval: null,
      basePriceId: null,
      seatPriceId: null,
      seats: 0,
    });
  });

  it('refuses unknown statuses and a missing customer permanently', () => {
    const sub = objectOf<Stripe.Subscription>(events.updated_active);
    expect(() => transformStripeSubscription({ ...sub, status: 'zombie' })).toThrow(PermanentEventError);
    expect(() =>
      transformStripeSubscription({ ...sub, customer: null } as unknown as Stripe.Subscription),
    ).toThrow(/no customer/);
  });
});
