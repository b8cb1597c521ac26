import { describe, expect, it } from '@jest/globals';
import { money } from '../money/money.js';
import {
  DEFAULT_CATALOGUE,
  allFeatures,
  catalogueLookupKeys,
  comparePlans,
  findPlan,
  isBillingInterval,
  isPlanId,
  parsePriceLookupKey,
  priceLookupKey,
  topPlan,
  validateCatalogue,
  type Catalogue,
  type PlanDefinition,
} from './plan.js';

function plan(id: string): PlanDefinition {
  const found = findPlan(DEFAULT_CATALOGUE, id);
  if (!found.ok) throw new Error(`test setup: no plan ${id}`);
  return found.value;
}

function issueCodes(catalogue: Catalogue): string[] {
  const result = validateCatalogue(catalogue);
  return result.ok ? [] : result.error.map((i) => i.code);
}

const withPlan = (id: string, patch: Partial<PlanDefinition>): Catalogue => ({
  plans: DEFAULT_CATALOGUE.plans.map((p) => (p.id === id ? { ...p, ...patch } : p)),
});

describe('DEFAULT_CATALOGUE (R-PLAN-1)', () => {
  it('has the prices and seats of the spec in USD cents', () => {
    expect(plan('free')).toMatchObject({
      includedSeats: 1,
      prices: { month: money(0, 'usd') },
      seatAddOnPrices: {},
    });
    expect(plan('pro')).toMatchObject({
      includedSeats: 5,
      prices: { month: money(2900, 'usd'), year: money(29000, 'usd') },
      seatAddOnPrices: { month: money(600, 'usd'), year: money(6000, 'usd') },
      trialEligible: true,
    });
    expect(plan('business')).toMatchObject({
      includedSeats: 25,
      prices: { month: money(9900, 'usd'), year: money(99000, 'usd') },
      seatAddOnPrices: { month: money(500, 'usd'), year: money(5000, 'usd') },
      trialEligible: true,
    });
    expect(plan('free').trialEligible).toBe(false);
  });

  it('passes its own validation and orders features by tier', () => {
    expect(validateCatalogue(DEFAULT_CATALOGUE)).toEqual({ ok: true, value: DEFAULT_CATALOGUE });
    expect(plan('free').features).toEqual(['core']);
    expect(plan('pro').features).toEqual(expect.arrayContaining(['core', 'api', 'integrations']));
    expect(plan('business').features).toEqual(
      expect.arrayContaining([...plan('pro').features, 'sso', 'audit_export']),
    );
    expect(topPlan(DEFAULT_CATALOGUE)?.id).toBe('business');
    expect(new Set(allFeatures(DEFAULT_CATALOGUE))).toEqual(new Set(plan('business').features));
    expect(topPlan({ plans: [] })).toBeUndefined();
  });
});

describe('findPlan / guards', () => {
  it('returns plan_not_found for an unknown id', () => {
    const result = findPlan(DEFAULT_CATALOGUE, 'enterprise');
    expect(!result.ok && result.error).toMatchObject({
      code: 'plan_not_found',
      details: { planId: 'enterprise' },
    });
  });

  it('recognises plan ids and intervals', () => {
    expect(isPlanId('pro')).toBe(true);
    expect(isPlanId('team-plus2')).toBe(true);
    expect(isPlanId('PRO')).toBe(false);
    expect(isPlanId('pro_max')).toBe(false);
    expect(isPlanId('2pro')).toBe(false);
    expect(isPlanId('a'.repeat(41))).toBe(false);
    expect(isPlanId(1)).toBe(false);
    expect(isBillingInterval('year')).toBe(true);
    expect(isBillingInterval('week')).toBe(false);
  });
});

describe('comparePlans', () => {
  it.each([
    ['free', 'pro', 'upgrade'],
    ['pro', 'business', 'upgrade'],
    ['business', 'pro', 'downgrade'],
    ['pro', 'free', 'downgrade'],
    ['pro', 'pro', 'same'],
  ] as const)('%s -> %s is %s', (from, to, expected) => {
    expect(comparePlans(plan(from), plan(to))).toBe(expected);
  });

  it('treats month -> year as an upgrade and year -> month as a downgrade within a tier', () => {
    expect(comparePlans(plan('pro'), plan('pro'), 'month', 'year')).toBe('upgrade');
    expect(comparePlans(plan('pro'), plan('pro'), 'year', 'month')).toBe('downgrade');
    expect(comparePlans(plan('pro'), plan('pro'), 'year', 'year')).toBe('same');
    expect(comparePlans(plan('business'), plan('pro'), 'month', 'year')).toBe('downgrade');
  });
});

describe('Stripe lookup keys', () => {
  it('derives keys as data and parses them back', () => {
    expect(priceLookupKey('pro', 'month', 'base')).toBe('pro_month_base');
    expect(priceLookupKey('business', 'year', 'seat')).toBe('business_year_seat');
    for (const entry of catalogueLookupKeys(DEFAULT_CATALOGUE)) {
      expect(parsePriceLookupKey(entry.lookupKey)).toEqual({
        planId: entry.planId,
        interval: entry.interval,
        kind: entry.kind,
      });
    }
  });

  it('lists exactly the prices the catalogue defines', () => {
    expect(
      catalogueLookupKeys(DEFAULT_CATALOGUE).map((e) => [e.lookupKey, e.unitAmount.amountMinor]),
    ).toEqual([
      ['pro_month_base', 2900],
      ['pro_month_seat', 600],
      ['pro_year_base', 29000],
      ['pro_year_seat', 6000],
      ['business_month_base', 9900],
      ['business_month_seat', 500],
      ['business_year_base', 99000],
      ['business_year_seat', 5000],
    ]);
  });

  it.each(['pro_month', 'pro_month_base_x', 'Gold_month_base', 'pro_week_base', 'pro_month_addon', ''])(
    'rejects %p',
    (key) => {
      expect(parsePriceLookupKey(key)).toBeNull();
    },
  );

  it("accepts any well-formed plan id, and only the catalogue's prices when given one", () => {
    expect(parsePriceLookupKey('gold_month_base')).toEqual({
      planId: 'gold',
      interval: 'month',
      kind: 'base',
    });
    expect(parsePriceLookupKey('gold_month_base', DEFAULT_CATALOGUE)).toBeNull();
    expect(parsePriceLookupKey('free_month_seat', DEFAULT_CATALOGUE)).toBeNull();
    expect(parsePriceLookupKey('pro_year_seat', DEFAULT_CATALOGUE)).toEqual({
      planId: 'pro',
      interval: 'year',
      kind: 'seat',
    });
  });

  it('sells plans the operator adds, and nothing that costs nothing', () => {
    const gold: PlanDefinition = {
      ...plan('business'),
      id: 'gold',
      name: 'Gold',
      tier: 3,
      prices: { month: money(19900, 'usd') },
      seatAddOnPrices: {},
    };
    const catalogue: Catalogue = { plans: [...DEFAULT_CATALOGUE.plans, gold] };
    expect(validateCatalogue(catalogue).ok).toBe(true);
    const keys = catalogueLookupKeys(catalogue).map((e) => e.lookupKey);
    expect(keys).toContain('gold_month_base');
    expect(keys.some((k) => k.startsWith('free_'))).toBe(false);
  });
});

describe('validateCatalogue', () => {
  it('reports an empty catalogue and the missing free plan', () => {
    expect(issueCodes({ plans: [] })).toEqual(['empty_catalogue', 'missing_free_plan']);
  });

  it('reports duplicates and malformed ids and names', () => {
    const pro = plan('pro');
    expect(issueCodes({ plans: [...DEFAULT_CATALOGUE.plans, pro] })).toEqual(
      expect.arrayContaining(['duplicate_plan', 'duplicate_tier']),
    );
    const gold = { ...pro, id: 'Gold_Plan', tier: 7, features: [...plan('business').features] };
    expect(issueCodes({ plans: [...DEFAULT_CATALOGUE.plans, gold] })).toEqual(['invalid_plan_id']);
    expect(issueCodes(withPlan('pro', { name: ' ' }))).toEqual(['invalid_name']);
  });

  it('reports bad prices, seats, trials and features', () => {
    expect(
      issueCodes(withPlan('pro', { prices: { month: { amountMinor: -1, currency: 'usd' } } })),
    ).toContain('invalid_price');
    expect(
      issueCodes(withPlan('pro', { prices: { month: { amountMinor: 1.5, currency: 'usd' } } })),
    ).toContain('invalid_price');
    expect(issueCodes(withPlan('pro', { prices: { month: { amountMinor: 1, currency: 'USD' } } }))).toContain(
      'invalid_price',
    );
    expect(issueCodes(withPlan('pro', { prices: {}, seatAddOnPrices: {} }))).toEqual(['missing_price']);
    expect(issueCodes(withPlan('pro', { prices: { month: money(2900, 'usd') } }))).toEqual([
      'seat_price_without_plan_price',
    ]);
    expect(
      issueCodes(withPlan('pro', { prices: { month: money(2900, 'eur'), year: money(29000, 'usd') } })),
    ).toEqual(['mixed_currencies']);
    expect(issueCodes(withPlan('pro', { includedSeats: 0 }))).toEqual(['invalid_included_seats']);
    expect(issueCodes(withPlan('free', { trialEligible: true }))).toEqual(['free_plan_trial']);
    expect(issueCodes(withPlan('free', { prices: { month: money(100, 'usd') } }))).toEqual(['invalid_price']);
    expect(issueCodes(withPlan('free', { seatAddOnPrices: { month: money(0, 'usd') } }))).toEqual([
      'invalid_price',
    ]);
    expect(
      issueCodes(withPlan('pro', { prices: { month: money(0, 'usd'), year: money(29000, 'usd') } })),
    ).toEqual(['invalid_price']);
    expect(issueCodes(withPlan('pro', { features: [] }))).toEqual(
      expect.arrayContaining(['invalid_features', 'tier_features_not_inherited']),
    );
    expect(issueCodes(withPlan('business', { features: ['core', 'sso'] }))).toEqual([
      'tier_features_not_inherited',
    ]);
  });

  it('names the plan in each issue', () => {
    const result = validateCatalogue(withPlan('pro', { includedSeats: 0 }));
    expect(!result.ok && result.error[0]).toMatchObject({ code: 'invalid_included_seats', planId: 'pro' });
  });
});
