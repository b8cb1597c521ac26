import {
  isStripeSubscriptionStatus,
  mapStripeSubscription,
  parsePriceLookupKey,
  type BillingInterval,
  type PlanId,
  type StripeCancellationReason,
  type StripeSubscriptionStatus,
  type SubscriptionState,
} from '@billing/domain';
import type Stripe from 'stripe';
import { uuidOrNull } from '../../../platform/validation/uuid.js';
import type { SubscriptionItemsDescription } from '../../catalog/contracts/catalog-price.view.js';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import { idOf } from '../../../platform/stripe/stripe-ids.js';

const CANCELLATION_REASONS: readonly string[] = [
  'cancellation_requested',
  'payment_disputed',
  'payment_failed',
] satisfies StripeCancellationReason[];

/** A Stripe subscription as the mirror needs it (API 2026-10-28: periods live on the items). */
export interface SubscriptionValues {
  stripeSubscriptionId: string;
  stripeCustomerId: string;
  stripeStatus: StripeSubscriptionStatus;
  /**
   * Plan, interval, prices and seats: here the reading of the lookup keys (`pro_month_base`); the handler
   * replaces them with the catalogue's reading of `items` ({@link withCatalogPlan}) before storing.
   */
  planId: PlanId | null;
  interval: BillingInterval | null;
  basePriceId: string | null;
  seatPriceId: string | null;
  /** Purchased add-on seats: the quantity of the seat item (0 without one). */
  seats: number;
  currency: string | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: Date | null;
  canceledAt: Date | null;
  cancellationReason: StripeCancellationReason | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  trialStart: Date | null;
  trialEnd: Date | null;
  endedAt: Date | null;
  latestInvoiceId: string | null;
  stripeCreatedAt: Date | null;
  /** The test clock the subscription runs on (test mode), null on real time. */
  testClockId: string | null;
  /** `metadata.account_id` when the app set it (checkout). */
  metadataAccountId: string | null;
  /** Every item's price and quantity, for the catalogue to read the plan and seats from (withCatalogPlan). */
  items: SubscriptionItemValues[];
}

/** One subscription item as the catalogue reads it. */
export interface SubscriptionItemValues {
  priceId: string;
  quantity: number;
  lookupKey: string | null;
  metadata: Record<string, string>;
}

function date(seconds: number | null | undefined): Date | null {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000) : null;
}

/** `customer.subscription.*` payload (or a re-read subscription) -> mirror values. */
export function transformStripeSubscription(sub: Stripe.Subscription): SubscriptionValues {
  if (typeof sub.id !== 'string' || !sub.id.startsWith('sub_')) {
    throw new PermanentEventError('subscription.id is missing', 'malformed_payload');
  }
  if (!isStripeSubscriptionStatus(sub.status)) {
    throw new PermanentEventError(`unknown subscription status '${String(sub.status)}'`, 'malformed_payload');
  }
  const customer = idOf(sub.customer);
  if (!customer) throw new PermanentEventError(`subscription ${sub.id} has no customer`, 'malformed_payload');

  const items = sub.items?.data ?? [];
  let base: { item: Stripe.SubscriptionItem; planId: PlanId; interval: BillingInterval } | null = null;
  let seat: Stripe.SubscriptionItem | null = null;
  for (const item of items) {
    const parsed = item.price?.lookup_key ? parsePriceLookupKey(item.price.lookup_key) : null;
    if (!parsed) continue;
    if (parsed.kind === 'base' && !base) base = { item, planId: parsed.planId, interval: parsed.interval };
    if (parsed.kind === 'seat' && !seat) seat = item;
  }
  const periodItem = base?.item ?? items[0] ?? null;
  const seats = seat?.quantity ?? 0;
  if (!Number.isSafeInteger(seats) || seats < 0) {
    throw new PermanentEventError(`subscription ${sub.id} has an invalid seat quantity`, 'malformed_payload');
  }
  const reason = sub.cancellation_details?.reason ?? null;
  return {
    stripeSubscriptionId: sub.id,
    stripeCustomerId: customer,
    stripeStatus: sub.status,
    planId: base?.planId ?? null,
    interval: base?.interval ?? null,
    basePriceId: base?.item.price.id ?? null,
    seatPriceId: seat?.price.id ?? null,
    seats,
    currency: sub.currency ? sub.currency.toLowerCase() : null,
    cancelAtPeriodEnd: sub.cancel_at_period_end === true,
    cancelAt: date(sub.cancel_at),
    canceledAt: date(sub.canceled_at),
    cancellationReason:
      reason !== null && CANCELLATION_REASONS.includes(reason) ? (reason as StripeCancellationReason) : null,
    currentPeriodStart: date(periodItem?.current_period_start),
    currentPeriodEnd: date(periodItem?.current_period_end),
    trialStart: date(sub.trial_start),
    trialEnd: date(sub.trial_end),
    endedAt: date(sub.ended_at),
    latestInvoiceId: idOf(sub.latest_invoice),
    stripeCreatedAt: date(sub.created),
    testClockId: idOf(sub.test_clock),
    metadataAccountId: uuidOrNull(sub.metadata?.account_id),
    items: items
      .filter((item) => typeof item.price?.id === 'string')
      .map((item) => ({
        priceId: item.price.id,
        quantity: item.quantity ?? 1,
        lookupKey: item.price.lookup_key ?? null,
        metadata: { ...(item.price.metadata ?? {}) },
      })),
  };
}

/**
 * The plan, interval, prices and seats as the catalogue reads the items (CatalogFacade.describeItems:
 * the Stripe price ids catalogue sync recorded, so a price replaced after an amount change, which has
 * lost its lookup key, still maps to its plan). Null (no base price of the catalogue): no plan, 0 seats.
 */
export function withCatalogPlan(
  values: SubscriptionValues,
  plan: SubscriptionItemsDescription | null,
): SubscriptionValues {
  return {
    ...values,
    planId: plan?.planId ?? null,
    interval: plan?.interval ?? null,
    basePriceId: plan?.basePriceId ?? null,
    seatPriceId: plan?.seatPriceId ?? null,
    seats: plan?.seats ?? 0,
  };
}

/**
 * The app state of a mirrored subscription (R-SM-2), through the domain's `mapStripeSubscription`.
 * `pastDueSince` is the app's dunning clock (when the mirror first saw it past_due).
 */
export function subscriptionStateOf(
  values: SubscriptionValues,
  dunning: { pastDueSince: Date | null; now: Date },
): SubscriptionState {
  return mapStripeSubscription({
    status: values.stripeStatus,
    cancelAtPeriodEnd: values.cancelAtPeriodEnd,
    endedAt: values.endedAt,
    cancellationReason: values.cancellationReason,
    pastDueSince: dunning.pastDueSince,
    currentPeriodEnd: values.currentPeriodEnd,
    now: dunning.now,
  });
}
