import type { BillingInterval } from '@billing/domain';

/** A price of a plan as the catalogue sells it (minor units of the catalogue's currency). */
export interface PlanPriceView {
  interval: BillingInterval;
  amount: number;
  /** One add-on seat per interval; null when the plan sells none. */
  seatAmount: number | null;
}

/** A plan of the configured catalogue (R-PLAN-1). */
export interface PlanView {
  id: string;
  name: string;
  tier: number;
  includedSeats: number;
  trialAvailable: boolean;
  features: string[];
  prices: PlanPriceView[];
}

/** The catalogue's plans by tier, and the currency of their prices. */
export interface PlanListView {
  currency: string;
  plans: PlanView[];
}
