import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CATALOGUE } from '@billing/domain';
import { InvalidCatalogError, loadCatalogFile, parseCatalog } from './catalog.config.js';

const SHIPPED = 'config/catalog.json';

function problemsOf(raw: unknown): string[] {
  try {
    parseCatalog(raw);
  } catch (error) {
    if (error instanceof InvalidCatalogError) return error.problems;
    throw error;
  }
  throw new Error('expected the catalogue to be refused');
}

/** The shipped file as plain JSON, with one change. */
function shipped(change: (c: { currency: unknown; plans: Record<string, unknown>[] }) => void): unknown {
  const raw = JSON.parse(readFileSync(SHIPPED, 'utf8')) as {
    currency: unknown;
    plans: Record<string, unknown>[];
  };
  change(raw);
  return raw;
}

describe('the shipped catalogue file (R-PLAN-1)', () => {
  it('is exactly the default catalogue of the spec', () => {
    expect(loadCatalogFile(SHIPPED)).toEqual(DEFAULT_CATALOGUE);
  });
});

describe('parseCatalog', () => {
  it('names the bad field, its problem and the value', () => {
    expect(
      problemsOf(shipped((c) => ((c.plans[1]!.prices as Record<string, unknown>).month = 29.0001))),
    ).toEqual([
      'plans[1] (pro).prices.month: must be a whole amount in minor units (cents), at least 0; got 29.0001',
    ]);
    expect(
      problemsOf(shipped((c) => ((c.plans[2]!.seatPrices as Record<string, unknown>).week = 500))),
    ).toEqual(['plans[2] (business).seatPrices.week: is not an interval (month, year); got 500']);
    expect(problemsOf(shipped((c) => (c.plans[1]!.includedSeat = 5)))).toEqual([
      'plans[1] (pro).includedSeat: is not a plan field (id, name, tier, includedSeats, prices, seatPrices, trial, features); got 5',
    ]);
    expect(problemsOf(shipped((c) => (c.currency = 'dollars')))).toEqual([
      'currency: must be an ISO 4217 currency code Stripe supports, e.g. "usd"; got "dollars"',
    ]);
    expect(problemsOf(shipped((c) => (c.plans[0]!.features = ['Core feature'])))).toEqual([
      'plans[0] (free).features[0]: must be a feature key matching /^[a-z][a-z0-9_.:-]{0,63}$/; got "Core feature"',
    ]);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf(
      shipped((c) => {
        c.plans[1]!.tier = 'one';
        c.plans[2]!.includedSeats = 0;
        c.plans[2]!.trial = 'yes';
      }),
    );
    expect(problems).toEqual([
      'plans[1] (pro).tier: must be a whole number, 0 or more; got "one"',
      'plans[2] (business).includedSeats: must be a whole number, 1 or more; got 0',
      'plans[2] (business).trial: must be true or false; got "yes"',
    ]);
  });

  it('applies the domain rules and names the plan', () => {
    expect(problemsOf(shipped((c) => (c.plans[2]!.features = ['core', 'sso'])))).toEqual([
      "plans[2] (business): plan 'business' lacks features of 'pro' [tier_features_not_inherited]",
    ]);
    expect(problemsOf(shipped((c) => c.plans.splice(0, 1)))).toEqual([
      "plans: the catalogue needs a 'free' plan [missing_free_plan]",
    ]);
    expect(problemsOf(shipped((c) => (c.plans[1]!.id = 'Pro Plan')))).toEqual([
      expect.stringMatching(
        /^plans\[1\] \(Pro Plan\): plan id 'Pro Plan' must be a lowercase slug .* \[invalid_plan_id\]$/,
      ),
    ]);
  });

  it('refuses a root that is not a catalogue', () => {
    expect(problemsOf([])).toEqual(['(root): must be a JSON object; got []']);
    expect(problemsOf({ currency: 'usd', plans: [] })).toEqual([
      'plans: must be a non-empty array of plans; got []',
    ]);
    expect(problemsOf({ currency: 'usd', plans: [3], extra: 1 })).toEqual([
      'extra: is not a catalogue field (currency, plans); got 1',
      'plans[0]: must be an object; got 3',
    ]);
  });

  it('accepts a plan the operator adds, in another currency', () => {
    const catalogue = parseCatalog(
      shipped((c) => {
        c.currency = 'EUR';
        c.plans.push({
          id: 'enterprise',
          name: 'Enterprise',
          tier: 3,
          includedSeats: 100,
          prices: { year: 500000 },
          features: (c.plans[2]!.features as string[]).concat('dedicated_support'),
        });
      }),
    );
    const enterprise = catalogue.plans.find((p) => p.id === 'enterprise');
    expect(enterprise).toMatchObject({
      prices: { year: { amountMinor: 500000, currency: 'eur' } },
      seatAddOnPrices: {},
      trialEligible: false,
    });
  });
});

describe('loadCatalogFile', () => {
  it('says when the file cannot be read or is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    expect(() => loadCatalogFile(join(dir, 'missing.json'))).toThrow(
      /CATALOG_PATH: cannot read the catalogue file \(ENOENT\)/,
    );
    writeFileSync(join(dir, 'broken.json'), '{ "plans": [ }');
    expect(() => loadCatalogFile(join(dir, 'broken.json'))).toThrow(/\(file\): not valid JSON/);
  });
});
