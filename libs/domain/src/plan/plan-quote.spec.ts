import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CATALOGUE, findPlan, type PlanDefinition } from './plan.js';
import {
  billingFingerprint,
  checkPlanQuote,
  planQuoteBilling,
  planChangeInputs,
  planQuoteKind,
  restartsBillingCycle,
  type PlanQuoteTerms,
} from './plan-quote.js';

function plan(id: string): PlanDefinition {
  const found = findPlan(DEFAULT_CATALOGUE, id);
  if (!found.ok) throw new Error(`test setup: no plan ${id}`);
  return found.value;
}

describe('planQuoteKind', () => {
  const pro = plan('pro');
  const business = plan('business');
  it('names plan changes by tier, then by interval', () => {
    const kind = (a: PlanDefinition, ai: 'month' | 'year', b: PlanDefinition, bi: 'month' | 'year') =>
      planQuoteKind({ plan: a, interval: ai, seats: 2 }, { plan: b, interval: bi, seats: 0 });
    expect(kind(pro, 'month', business, 'month')).toEqual({ ok: true, value: 'upgrade' });
    expect(kind(business, 'year', pro, 'year')).toEqual({ ok: true, value: 'downgrade' });
    expect(kind(pro, 'month', pro, 'year')).toEqual({ ok: true, value: 'upgrade' });
    expect(kind(pro, 'year', pro, 'month')).toEqual({ ok: true, value: 'downgrade' });
  });

  it('names seat-only changes by their count, and refuses no change at all', () => {
    const from = { plan: pro, interval: 'month' as const, seats: 2 };
    expect(planQuoteKind(from, { ...from, seats: 3 })).toEqual({ ok: true, value: 'seats_added' });
    expect(planQuoteKind(from, { ...from, seats: 0 })).toEqual({ ok: true, value: 'seats_removed' });
    const same = planQuoteKind(from, { ...from });
    expect(same.ok ? null : same.error.code).toBe('same_plan');
  });

  it('charges upgrades and added seats now, credits the rest to the next invoice', () => {
    expect(planQuoteBilling('upgrade')).toBe('invoice_now');
    expect(planQuoteBilling('seats_added')).toBe('invoice_now');
    expect(planQuoteBilling('downgrade')).toBe('next_invoice');
    expect(planQuoteBilling('seats_removed')).toBe('next_invoice');
    expect(planQuoteBilling('downgrade_withdrawn')).toBe('next_invoice');
  });

  it('invoices an interval change now in either direction (Stripe restarts the billing cycle)', () => {
    expect(restartsBillingCycle('month', 'year')).toBe(true);
    expect(restartsBillingCycle('year', 'month')).toBe(true);
    expect(restartsBillingCycle('year', 'year')).toBe(false);
    expect(planQuoteBilling('downgrade', restartsBillingCycle('year', 'month'))).toBe('invoice_now');
    expect(planQuoteBilling('upgrade', restartsBillingCycle('month', 'year'))).toBe('invoice_now');
  });
});

describe('checkPlanQuote', () => {
  const quote: PlanQuoteTerms = {
    expiresAt: new Date('2031-01-01T10:15:00Z'),
    appliedAt: null,
    subscriptionVersion: 4,
    fingerprint: 'active|100|p1x1|0',
  };
  const current = { version: 4, fingerprint: 'active|100|p1x1|0' };
  const before = new Date('2031-01-01T10:14:59Z');

  it('accepts an unused quote before its expiry on the subscription it priced', () => {
    expect(checkPlanQuote(quote, current, before)).toEqual({ ok: true, value: undefined });
  });

  it('refuses at and after the expiry instant', () => {
    for (const now of [quote.expiresAt, new Date('2031-01-02T00:00:00Z')]) {
      const r = checkPlanQuote(quote, current, now);
      expect(r.ok ? null : r.error.code).toBe('quote_expired');
    }
  });

  it('refuses when the version or the Stripe billing changed', () => {
    for (const c of [
      { ...current, version: 5 },
      { ...current, fingerprint: 'active|100|p1x2|0' },
    ]) {
      const r = checkPlanQuote(quote, c, before);
      expect(r.ok ? null : r.error).toMatchObject({ code: 'quote_stale', details: { quotedVersion: 4 } });
    }
  });

  it('refuses a quote already applied, before anything else', () => {
    const r = checkPlanQuote({ ...quote, appliedAt: before }, { ...current, version: 9 }, quote.expiresAt);
    expect(r.ok ? null : r.error.code).toBe('quote_already_applied');
  });
});

describe('billingFingerprint', () => {
  const base = {
    status: 'active',
    currentPeriodEnd: 1000,
    items: [
      { price: 'price_b', quantity: 2 },
      { price: 'price_a', quantity: 1 },
    ],
    customerBalance: -500,
  };
  it('does not depend on the order of the items', () => {
    expect(billingFingerprint(base)).toBe(billingFingerprint({ ...base, items: [...base.items].reverse() }));
  });
  it('changes with each thing that changes the charge', () => {
    const f = billingFingerprint(base);
    expect(billingFingerprint({ ...base, status: 'past_due' })).not.toBe(f);
    expect(billingFingerprint({ ...base, currentPeriodEnd: 2000 })).not.toBe(f);
    expect(billingFingerprint({ ...base, customerBalance: 0 })).not.toBe(f);
    expect(
      billingFingerprint({ ...base, items: [{ price: 'price_b', quantity: 3 }, base.items[1]!] }),
    ).not.toBe(f);
  });
});

describe('planChangeInputs', () => {
  const from = { planId: 'business', interval: 'month' as const, seats: 2 };
  it('adds seats before a plan change and removes them after it', () => {
    expect(
      planChangeInputs(from, { planId: 'pro', interval: 'month', seats: 4 }, 7).map((i) => i.type),
    ).toEqual(['change_seats', 'change_plan']);
    expect(
      planChangeInputs(from, { planId: 'pro', interval: 'month', seats: 0 }, 3).map((i) => i.type),
    ).toEqual(['change_plan', 'change_seats']);
  });
  it('changes only what differs, with the member count for the seat rule', () => {
    expect(planChangeInputs(from, { ...from, seats: 5 }, 6)).toEqual([
      { type: 'change_seats', seats: 5, memberCount: 6 },
    ]);
    expect(planChangeInputs(from, { ...from, planId: 'pro' }, 1)).toEqual([
      { type: 'change_plan', planId: 'pro', interval: 'month', memberCount: 1 },
    ]);
  });
});
