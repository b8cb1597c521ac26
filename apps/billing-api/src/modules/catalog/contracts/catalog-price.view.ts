import type { BillingInterval, PlanId, PriceKind } from '@billing/domain';

/** A Stripe price of the catalogue and what it sells. */
export interface CatalogPriceView {
  stripePriceId: string;
  /** `<plan>_<interval>_<kind>`, e.g. `pro_month_base`. */
  lookupKey: string;
  planId: PlanId;
  interval: BillingInterval;
  /** `base`: the plan itself (quantity 1); `seat`: one add-on seat (quantity = purchased seats). */
  kind: PriceKind;
  unitAmount: number;
  currency: string;
  /** Holds its lookup key now. An old price (replaced after an amount change) still bills its subscriptions. */
  isCurrent: boolean;
}

/** The Stripe prices to bill one (plan, interval): the base price and the add-on seat price if sold. */
export interface PlanStripePrices {
  planId: PlanId;
  interval: BillingInterval;
  base: CatalogPriceView;
  /** null when the plan sells no add-on seats for that interval. */
  seat: CatalogPriceView | null;
}

/** What a subscription's Stripe items say in catalogue terms (see CatalogFacade.describeItems). */
export interface SubscriptionItemsDescription {
  planId: PlanId;
  interval: BillingInterval;
  basePriceId: string;
  seatPriceId: string | null;
  /** Purchased add-on seats: the quantity of the seat item (0 without one). */
  seats: number;
}
