import { describe, expect, it } from '@jest/globals';
import { DomainInvariantError } from '../kernel/errors.js';
import { allFeatures, DEFAULT_CATALOGUE, type Catalogue } from '../plan/plan.js';
import { SUBSCRIPTION_STATES, type SubscriptionState } from '../subscription/subscription.types.js';
import { deriveEntitlements, isInRollout, rolloutBucket, type EntitlementInput } from './entitlement.js';

const DAY = 86_400_000;
const NOW = new Date('2026-03-15T12:00:00.000Z');
const at = (days: number): Date => new Date(NOW.getTime() + days * DAY);
const PRO = DEFAULT_CATALOGUE.plans.find((p) => p.id === 'pro')?.features ?? [];
const FREE = ['core'];
const ALL = allFeatures(DEFAULT_CATALOGUE);

const input = (state: SubscriptionState | null, extra: Partial<EntitlementInput> = {}): EntitlementInput => ({
  catalogue: DEFAULT_CATALOGUE,
  planId: state === 'free' || state === 'expired' || state === 'canceled_immediately' ? 'free' : 'pro',
  state,
  purchasedSeats: 2,
  flags: { billingEnabled: true },
  now: NOW,
  currentPeriodEnd: at(10),
  ...extra,
});

describe('deriveEntitlements (R-SM-4)', () => {
  // Independent expectations per state: tier, features, seat limit, access and banner kinds.
  const EXPECTED: Record<
    SubscriptionState,
    [string, readonly string[], number, 'full' | 'read_only', string[]]
  > = {
    free: ['free', FREE, 1, 'full', []],
    expired: ['free', FREE, 1, 'full', []],
    canceled_immediately: ['free', FREE, 1, 'full', []],
    trialing: ['pro', PRO, 7, 'full', ['trial_ends']],
    active: ['pro', PRO, 7, 'full', []],
    past_due: ['pro', PRO, 7, 'full', ['past_due']],
    suspended: ['pro', PRO, 7, 'read_only', ['suspended']],
    canceled_pending: ['pro', PRO, 7, 'full', ['cancels_at_period_end']],
  };

  it.each(SUBSCRIPTION_STATES)('%s', (state) => {
    const e = deriveEntitlements(input(state));
    expect([e.tier, e.features, e.seatLimit, e.accessMode, e.banners.map((b) => b.kind)]).toEqual(
      EXPECTED[state],
    );
    expect(e).toMatchObject({ billingEnabled: true, basis: 'subscription' });
  });

  it('gives everything when billing is disabled for the account', () => {
    for (const state of [...SUBSCRIPTION_STATES, null]) {
      expect(deriveEntitlements(input(state, { flags: { billingEnabled: false } }))).toEqual({
        tier: 'business',
        features: ALL,
        seatLimit: null,
        accessMode: 'full',
        banners: [],
        billingEnabled: false,
        basis: 'billing_disabled',
      });
    }
  });

  it('fails open when the state is uncertain (R-CORE-5)', () => {
    const unknownState = deriveEntitlements(input(null));
    expect(unknownState).toMatchObject({
      accessMode: 'full',
      seatLimit: null,
      basis: 'fail_open',
      features: ALL,
    });
    const weird = deriveEntitlements(input('weird' as SubscriptionState));
    expect(weird.basis).toBe('fail_open');
    const unknownPlan = deriveEntitlements(input('active', { planId: 'enterprise' }));
    expect(unknownPlan.basis).toBe('fail_open');
    const noFree: Catalogue = { plans: DEFAULT_CATALOGUE.plans.filter((p) => p.id !== 'free') };
    expect(deriveEntitlements({ ...input('expired'), catalogue: noFree }).basis).toBe('fail_open');
    expect(() => deriveEntitlements({ ...input(null), catalogue: { plans: [] } })).toThrow(
      DomainInvariantError,
    );
  });

  it('keeps the paid tier of a cancelled subscription until (and past) the period end', () => {
    const e = deriveEntitlements(input('canceled_pending', { now: at(11) }));
    expect(e).toMatchObject({
      tier: 'pro',
      accessMode: 'full',
      banners: [{ kind: 'cancels_at_period_end', at: at(10).toISOString() }],
    });
  });

  it('keeps the current tier while a downgrade is scheduled, with a banner until it applies', () => {
    const pendingPlanChange = { planId: 'pro' as const, interval: 'month' as const, effectiveAt: at(10) };
    const before = deriveEntitlements(input('active', { planId: 'business', pendingPlanChange }));
    expect(before.tier).toBe('business');
    expect(before.banners).toEqual([
      { kind: 'downgrade_scheduled', planId: 'pro', at: at(10).toISOString() },
    ]);
    const after = deriveEntitlements(input('active', { planId: 'business', pendingPlanChange, now: at(10) }));
    expect(after).toMatchObject({ tier: 'business', banners: [] });
  });

  it('dates the banners', () => {
    const trial = deriveEntitlements(input('trialing', { trialEnd: at(3) }));
    expect(trial.banners).toEqual([{ kind: 'trial_ends', at: at(3).toISOString() }]);
    const pastDue = deriveEntitlements(input('past_due', { pastDueSince: at(-2) }));
    expect(pastDue.banners).toEqual([{ kind: 'past_due', since: at(-2).toISOString() }]);
    expect(deriveEntitlements(input('past_due')).banners).toEqual([{ kind: 'past_due', since: null }]);
  });
});

describe('isInRollout (R-PLAN-5)', () => {
  it('is deterministic and monotonic in the percentage', () => {
    const accounts = Array.from({ length: 500 }, (_, i) => `acct_${i}`);
    for (const a of accounts) {
      expect(isInRollout(a, 0)).toBe(false);
      expect(isInRollout(a, 100)).toBe(true);
      expect(isInRollout(a, 30)).toBe(isInRollout(a, 30));
      expect(!isInRollout(a, 30) || isInRollout(a, 31)).toBe(true);
    }
    const share = accounts.filter((a) => isInRollout(a, 30)).length / accounts.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
  });

  it('uses a stable FNV-1a bucket (known values) and a salt', () => {
    // Checked against a BigInt reference implementation of FNV-1a below.
    expect(rolloutBucket('acct_1')).toBe(fnv1a('billing_enabled:acct_1') % 100);
    expect(rolloutBucket('')).toBe(fnv1a('billing_enabled:') % 100);
    const salted = Array.from(
      { length: 50 },
      (_, i) => rolloutBucket(`a${i}`, 'other') !== rolloutBucket(`a${i}`),
    );
    expect(salted.some(Boolean)).toBe(true);
  });

  it.each([-1, 101, 12.5, Number.NaN])('throws on percent %p', (p) => {
    expect(() => isInRollout('a', p)).toThrow(DomainInvariantError);
  });
});

/** Reference FNV-1a over ASCII written with BigInt, independent of the implementation's Math.imul. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5n;
  for (const ch of text) {
    hash ^= BigInt(ch.charCodeAt(0));
    hash = (hash * 0x01000193n) % 2n ** 32n;
  }
  return Number(hash);
}
