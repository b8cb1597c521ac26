import { rejection, type DomainRejection } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';
import { isSupportedCurrency, normalizeCurrency } from '../money/currency.js';
import { money, type Money } from '../money/money.js';

/**
 * A plan id: operator-defined data from the catalogue, not a fixed union. A lowercase slug (letters,
 * digits and `-`, starting with a letter, at most 40 characters) so that it composes unambiguously into
 * Stripe lookup keys (`<plan>_<interval>_<kind>`). Whether a plan exists is a question for the
 * catalogue ({@link findPlan}); {@link isPlanId} only checks the form.
 */
export type PlanId = string;

/** The pattern every plan id matches. */
export const PLAN_ID_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * The one plan id the domain knows by name: the Free tier every catalogue must have (tier 0, costs
 * nothing). Accounts without a paid subscription are on it; every other plan is catalogue data.
 */
export const FREE_PLAN_ID = 'free';

/** Billing intervals of a paid plan. */
export const BILLING_INTERVALS = ['month', 'year'] as const;
export type BillingInterval = (typeof BILLING_INTERVALS)[number];

/** What a Stripe price is for: the plan itself or one add-on seat. */
export type PriceKind = 'base' | 'seat';

/** One plan of the catalogue. `tier` orders plans: a higher tier is an upgrade. */
export interface PlanDefinition {
  readonly id: PlanId;
  readonly name: string;
  readonly tier: number;
  readonly includedSeats: number;
  readonly prices: Readonly<Partial<Record<BillingInterval, Money>>>;
  readonly seatAddOnPrices: Readonly<Partial<Record<BillingInterval, Money>>>;
  readonly features: readonly string[];
  readonly trialEligible: boolean;
}

/** The configurable plan catalogue (data, not logic). */
export interface Catalogue {
  readonly plans: readonly PlanDefinition[];
}

const CORE = ['core'];
const PRO = [...CORE, 'api', 'integrations', 'advanced_reports', 'email_support'];
const BUSINESS = [...PRO, 'sso', 'audit_export', 'priority_support', 'custom_roles'];

/** The default catalogue of R-PLAN-1, in USD cents. */
export const DEFAULT_CATALOGUE: Catalogue = {
  plans: [
    {
      id: FREE_PLAN_ID,
      name: 'Free',
      tier: 0,
      includedSeats: 1,
      prices: { month: money(0, 'usd') },
      seatAddOnPrices: {},
      features: CORE,
      trialEligible: false,
    },
    {
      id: 'pro',
      name: 'Pro',
      tier: 1,
      includedSeats: 5,
      prices: { month: money(2900, 'usd'), year: money(29000, 'usd') },
      seatAddOnPrices: { month: money(600, 'usd'), year: money(6000, 'usd') },
      features: PRO,
      trialEligible: true,
    },
    {
      id: 'business',
      name: 'Business',
      tier: 2,
      includedSeats: 25,
      prices: { month: money(9900, 'usd'), year: money(99000, 'usd') },
      seatAddOnPrices: { month: money(500, 'usd'), year: money(5000, 'usd') },
      features: BUSINESS,
      trialEligible: true,
    },
  ],
};

/** True for a well-formed plan id ({@link PLAN_ID_PATTERN}); membership is {@link findPlan}'s question. */
export function isPlanId(value: unknown): value is PlanId {
  return typeof value === 'string' && PLAN_ID_PATTERN.test(value);
}

/** True for 'month' or 'year'. */
export function isBillingInterval(value: unknown): value is BillingInterval {
  return typeof value === 'string' && (BILLING_INTERVALS as readonly string[]).includes(value);
}

/** Finds a plan by id, or `plan_not_found`. */
export function findPlan(catalogue: Catalogue, planId: string): Result<PlanDefinition, DomainRejection> {
  const plan = catalogue.plans.find((p) => p.id === planId);
  return plan
    ? ok(plan)
    : err(rejection('plan_not_found', `no plan '${planId}' in the catalogue`, { planId }));
}

/** How moving between two (plan, interval) choices counts. */
export type PlanChangeDirection = 'upgrade' | 'downgrade' | 'same';

/**
 * Orders two plan choices: by tier first; within one tier, month -> year is an upgrade (billed now)
 * and year -> month a downgrade (takes effect at period end). Omitting intervals compares tiers only.
 */
export function comparePlans(
  from: PlanDefinition,
  to: PlanDefinition,
  fromInterval?: BillingInterval,
  toInterval?: BillingInterval,
): PlanChangeDirection {
  if (to.tier !== from.tier) return to.tier > from.tier ? 'upgrade' : 'downgrade';
  if (fromInterval === undefined || toInterval === undefined || fromInterval === toInterval) return 'same';
  return toInterval === 'year' ? 'upgrade' : 'downgrade';
}

/** The Stripe `lookup_key` of a plan price, derived as data: `pro_month_base`, `business_year_seat`. */
export function priceLookupKey(planId: PlanId, interval: BillingInterval, kind: PriceKind): string {
  return `${planId}_${interval}_${kind}`;
}

/**
 * The inverse of priceLookupKey; null for any other key. Given a catalogue, also null when the key
 * names a plan, interval or kind the catalogue does not sell.
 */
export function parsePriceLookupKey(
  key: string,
  catalogue?: Catalogue,
): { planId: PlanId; interval: BillingInterval; kind: PriceKind } | null {
  const [planId, interval, kind, ...rest] = key.split('_');
  if (rest.length > 0 || !isPlanId(planId) || !isBillingInterval(interval)) return null;
  if (kind !== 'base' && kind !== 'seat') return null;
  if (catalogue) {
    const plan = catalogue.plans.find((p) => p.id === planId);
    const price = kind === 'base' ? plan?.prices[interval] : plan?.seatAddOnPrices[interval];
    if (!price) return null;
  }
  return { planId, interval, kind };
}

/** One price the catalogue sells through Stripe. */
export interface CataloguePrice {
  readonly lookupKey: string;
  readonly planId: PlanId;
  readonly interval: BillingInterval;
  readonly kind: PriceKind;
  readonly unitAmount: Money;
}

/**
 * Every price the catalogue needs in Stripe (for catalogue sync, R-PLAN-2): the base price of each plan
 * and interval and its add-on seat price. Prices of zero (the Free plan) are left out: nothing that
 * costs nothing is sold through Stripe.
 */
export function catalogueLookupKeys(catalogue: Catalogue): CataloguePrice[] {
  return catalogue.plans.flatMap((plan) =>
    BILLING_INTERVALS.flatMap((interval) => {
      const base = plan.prices[interval];
      const seat = plan.seatAddOnPrices[interval];
      return [
        ...(base && base.amountMinor > 0 ? [{ kind: 'base' as const, unitAmount: base }] : []),
        ...(seat && seat.amountMinor > 0 ? [{ kind: 'seat' as const, unitAmount: seat }] : []),
      ].map((p) => ({
        lookupKey: priceLookupKey(plan.id, interval, p.kind),
        planId: plan.id,
        interval,
        ...p,
      }));
    }),
  );
}

/** What can be wrong with catalogue data. */
export type CatalogueIssueCode =
  | 'empty_catalogue'
  | 'invalid_plan_id'
  | 'invalid_name'
  | 'duplicate_plan'
  | 'duplicate_tier'
  | 'missing_free_plan'
  | 'missing_price'
  | 'invalid_price'
  | 'mixed_currencies'
  | 'invalid_included_seats'
  | 'seat_price_without_plan_price'
  | 'free_plan_trial'
  | 'invalid_features'
  | 'tier_features_not_inherited';

/** One problem found by validateCatalogue. */
export interface CatalogueIssue {
  readonly code: CatalogueIssueCode;
  readonly message: string;
  readonly planId?: string;
}

function isValidPrice(m: Money | undefined): boolean {
  return (
    m === undefined ||
    (Number.isSafeInteger(m.amountMinor) &&
      m.amountMinor >= 0 &&
      isSupportedCurrency(m.currency) &&
      normalizeCurrency(m.currency) === m.currency)
  );
}

/**
 * Checks catalogue data: well-formed unique ids, names and unique tiers, a free plan at tier 0 with
 * price 0 and no add-on seats, every paid plan priced (above zero) for at least one interval, valid
 * non-negative prices in one currency, seat prices only for priced intervals, included seats >= 1, no trial on Free, and each tier's features a superset of
 * the tiers below. Returns the catalogue or every issue found.
 */
export function validateCatalogue(catalogue: Catalogue): Result<Catalogue, CatalogueIssue[]> {
  const issues: CatalogueIssue[] = [];
  const add = (code: CatalogueIssueCode, message: string, planId?: string): void => {
    issues.push(planId === undefined ? { code, message } : { code, message, planId });
  };
  if (catalogue.plans.length === 0) add('empty_catalogue', 'the catalogue has no plans');

  const currencies = new Set<string>();
  const ids = new Set<string>();
  const tiers = new Set<number>();
  for (const plan of catalogue.plans) {
    const id = String(plan.id);
    if (!isPlanId(plan.id)) {
      add('invalid_plan_id', `plan id '${id}' must be a lowercase slug (${String(PLAN_ID_PATTERN)})`, id);
    }
    if (typeof plan.name !== 'string' || plan.name.trim().length === 0 || plan.name.length > 100) {
      add('invalid_name', `plan '${id}' needs a name of 1 to 100 characters`, id);
    }
    if (ids.has(id)) add('duplicate_plan', `plan '${id}' appears twice`, id);
    ids.add(id);
    if (!Number.isSafeInteger(plan.tier) || tiers.has(plan.tier)) {
      add('duplicate_tier', `plan '${id}' needs a unique integer tier`, id);
    }
    tiers.add(plan.tier);
    if (!Number.isSafeInteger(plan.includedSeats) || plan.includedSeats < 1) {
      add('invalid_included_seats', `plan '${id}' must include at least one seat`, id);
    }
    if (plan.features.length === 0 || new Set(plan.features).size !== plan.features.length) {
      add('invalid_features', `plan '${id}' needs a non-empty list of distinct features`, id);
    }
    for (const interval of BILLING_INTERVALS) {
      for (const price of [plan.prices[interval], plan.seatAddOnPrices[interval]]) {
        if (!isValidPrice(price)) add('invalid_price', `plan '${id}' has an invalid ${interval} price`, id);
        else if (price) currencies.add(price.currency);
      }
      if (plan.seatAddOnPrices[interval] && !plan.prices[interval]) {
        add(
          'seat_price_without_plan_price',
          `plan '${id}' sells ${interval} seats without a ${interval} price`,
          id,
        );
      }
    }
    if (plan.id === FREE_PLAN_ID) {
      if (plan.trialEligible) add('free_plan_trial', 'the free plan cannot have a trial', id);
      const priced = BILLING_INTERVALS.map((i) => plan.prices[i]).filter((p) => p !== undefined);
      if (plan.tier !== 0 || priced.some((p) => p.amountMinor !== 0)) {
        add('invalid_price', 'the free plan must be tier 0 and cost nothing', id);
      }
      if (BILLING_INTERVALS.some((i) => plan.seatAddOnPrices[i] !== undefined)) {
        add('invalid_price', 'the free plan sells no add-on seats', id);
      }
    } else if (!BILLING_INTERVALS.some((i) => plan.prices[i] !== undefined)) {
      add('missing_price', `paid plan '${id}' has no price`, id);
    } else if (BILLING_INTERVALS.some((i) => plan.prices[i]?.amountMinor === 0)) {
      add('invalid_price', `paid plan '${id}' has a price of zero`, id);
    }
  }
  if (!ids.has(FREE_PLAN_ID)) add('missing_free_plan', `the catalogue needs a '${FREE_PLAN_ID}' plan`);
  if (currencies.size > 1)
    add('mixed_currencies', `prices use several currencies: ${[...currencies].join(', ')}`);

  const byTier = [...catalogue.plans].sort((a, b) => a.tier - b.tier);
  for (let i = 1; i < byTier.length; i += 1) {
    const lower = byTier[i - 1];
    const higher = byTier[i];
    if (lower && higher && !lower.features.every((f) => higher.features.includes(f))) {
      add('tier_features_not_inherited', `plan '${higher.id}' lacks features of '${lower.id}'`, higher.id);
    }
  }
  return issues.length === 0 ? ok(catalogue) : err(issues);
}

/** The highest-tier plan (used when billing is disabled: everything available). */
export function topPlan(catalogue: Catalogue): PlanDefinition | undefined {
  return catalogue.plans.reduce<PlanDefinition | undefined>(
    (top, p) => (top && top.tier >= p.tier ? top : p),
    undefined,
  );
}

/** Every feature any plan offers. */
export function allFeatures(catalogue: Catalogue): string[] {
  return [...new Set(catalogue.plans.flatMap((p) => p.features))];
}
