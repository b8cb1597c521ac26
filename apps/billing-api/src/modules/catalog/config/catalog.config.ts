import { readFileSync } from 'node:fs';
import {
  BILLING_INTERVALS,
  isSupportedCurrency,
  money,
  normalizeCurrency,
  validateCatalogue,
  type BillingInterval,
  type Catalogue,
  type Money,
  type PlanDefinition,
} from '@billing/domain';

/**
 * The catalogue file the operator edits (R-PLAN-1): JSON, amounts in minor units of `currency`.
 *
 * ```json
 * { "currency": "usd",
 *   "plans": [{ "id": "pro", "name": "Pro", "tier": 1, "includedSeats": 5,
 *               "prices": { "month": 2900, "year": 29000 }, "seatPrices": { "month": 600, "year": 6000 },
 *               "trial": true, "features": ["core", "api"] }] }
 * ```
 *
 * - `id`: a lowercase slug (`a-z`, `0-9`, `-`); `free` is the Free tier every catalogue has (tier 0,
 *   price 0, no add-on seats). Ids are what subscriptions store: rename one only with a data migration.
 * - `tier`: orders plans (a higher tier is an upgrade); each tier's features include the tiers' below.
 * - `prices` / `seatPrices`: per interval (`month`, `year`); an interval left out is not sold.
 * - `trial`: whether a 14-day trial may start on this plan.
 */
export interface CatalogFile {
  currency: string;
  plans: CatalogFilePlan[];
}

export interface CatalogFilePlan {
  id: string;
  name: string;
  tier: number;
  includedSeats: number;
  prices: Partial<Record<BillingInterval, number>>;
  seatPrices?: Partial<Record<BillingInterval, number>>;
  trial?: boolean;
  features: string[];
}

/** The catalogue file is missing, is not JSON, or holds bad data; `problems` name each bad field. */
export class InvalidCatalogError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid plan catalogue (${source}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'InvalidCatalogError';
  }
}

const FEATURE = /^[a-z][a-z0-9_.:-]{0,63}$/;
const PLAN_KEYS = ['id', 'name', 'tier', 'includedSeats', 'prices', 'seatPrices', 'trial', 'features'];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

/**
 * Checks the raw JSON of a catalogue file and turns it into the domain's {@link Catalogue}, or throws
 * {@link InvalidCatalogError} listing every problem by its field path (`plans[1].prices.month: …`).
 * The shape is checked here; the business rules (a free plan, unique tiers, features inherited by
 * higher tiers, one currency …) by the domain's `validateCatalogue`, whose issues are named by plan.
 */
export function parseCatalog(raw: unknown, source = 'catalogue'): Catalogue {
  const problems: string[] = [];
  const bad = (path: string, message: string, value: unknown): void => {
    problems.push(`${path}: ${message}; got ${show(value)}`);
  };
  if (!isRecord(raw))
    throw new InvalidCatalogError(source, [`(root): must be a JSON object; got ${show(raw)}`]);
  for (const key of Object.keys(raw)) {
    if (key !== 'currency' && key !== 'plans' && key !== '$schema' && key !== '$comment')
      bad(key, 'is not a catalogue field (currency, plans)', raw[key]);
  }
  let currency = 'usd';
  if (typeof raw.currency !== 'string' || !isSupportedCurrency(raw.currency)) {
    bad('currency', 'must be an ISO 4217 currency code Stripe supports, e.g. "usd"', raw.currency);
  } else currency = normalizeCurrency(raw.currency);
  if (!Array.isArray(raw.plans) || raw.plans.length === 0) {
    bad('plans', 'must be a non-empty array of plans', raw.plans);
    throw new InvalidCatalogError(source, problems);
  }

  const amounts = (path: string, value: unknown, required: boolean): PlanDefinition['prices'] => {
    const out: Partial<Record<BillingInterval, Money>> = {};
    if (value === undefined && !required) return out;
    if (!isRecord(value)) {
      bad(path, 'must be an object of amounts by interval, e.g. { "month": 2900 }', value);
      return out;
    }
    for (const [interval, amount] of Object.entries(value)) {
      if (!(BILLING_INTERVALS as readonly string[]).includes(interval)) {
        bad(`${path}.${interval}`, `is not an interval (${BILLING_INTERVALS.join(', ')})`, amount);
      } else if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0) {
        bad(`${path}.${interval}`, 'must be a whole amount in minor units (cents), at least 0', amount);
      } else out[interval as BillingInterval] = money(amount, currency);
    }
    return out;
  };

  const plans: PlanDefinition[] = raw.plans.map((p: unknown, i: number): PlanDefinition => {
    const at = `plans[${i}]`;
    if (!isRecord(p)) {
      bad(at, 'must be an object', p);
      return {
        id: '',
        name: '',
        tier: -1,
        includedSeats: 0,
        prices: {},
        seatAddOnPrices: {},
        features: [],
        trialEligible: false,
      };
    }
    const path = typeof p.id === 'string' ? `${at} (${p.id})` : at;
    for (const key of Object.keys(p)) {
      if (!PLAN_KEYS.includes(key))
        bad(`${path}.${key}`, `is not a plan field (${PLAN_KEYS.join(', ')})`, p[key]);
    }
    if (typeof p.id !== 'string') bad(`${path}.id`, 'must be a string', p.id);
    if (typeof p.name !== 'string' || p.name.trim() === '')
      bad(`${path}.name`, 'must be a non-empty string', p.name);
    if (typeof p.tier !== 'number' || !Number.isSafeInteger(p.tier) || p.tier < 0)
      bad(`${path}.tier`, 'must be a whole number, 0 or more', p.tier);
    if (typeof p.includedSeats !== 'number' || !Number.isSafeInteger(p.includedSeats) || p.includedSeats < 1)
      bad(`${path}.includedSeats`, 'must be a whole number, 1 or more', p.includedSeats);
    if (p.trial !== undefined && typeof p.trial !== 'boolean')
      bad(`${path}.trial`, 'must be true or false', p.trial);
    const features: string[] = [];
    if (!Array.isArray(p.features)) bad(`${path}.features`, 'must be an array of feature keys', p.features);
    else
      p.features.forEach((f: unknown, j: number) => {
        if (typeof f !== 'string' || !FEATURE.test(f))
          bad(`${path}.features[${j}]`, `must be a feature key matching ${String(FEATURE)}`, f);
        else features.push(f);
      });
    return {
      id: typeof p.id === 'string' ? p.id : '',
      name: typeof p.name === 'string' ? p.name.trim() : '',
      tier: typeof p.tier === 'number' ? p.tier : -1,
      includedSeats: typeof p.includedSeats === 'number' ? p.includedSeats : 0,
      prices: amounts(`${path}.prices`, p.prices, true),
      seatAddOnPrices: amounts(`${path}.seatPrices`, p.seatPrices, false),
      features,
      trialEligible: p.trial === true,
    };
  });
  if (problems.length > 0) throw new InvalidCatalogError(source, problems);

  const catalogue: Catalogue = { plans };
  const checked = validateCatalogue(catalogue);
  if (!checked.ok) {
    throw new InvalidCatalogError(
      source,
      checked.error.map((issue) => {
        const index = plans.findIndex((p) => p.id === issue.planId);
        const where = index >= 0 ? `plans[${index}] (${issue.planId ?? ''})` : 'plans';
        return `${where}: ${issue.message} [${issue.code}]`;
      }),
    );
  }
  return checked.value;
}

/** Reads and checks the catalogue file at `path` (CATALOG_PATH). */
export function loadCatalogFile(path: string): Catalogue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidCatalogError(path, [
      `CATALOG_PATH: cannot read the catalogue file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidCatalogError(path, [`(file): not valid JSON: ${(error as Error).message}`]);
  }
  return parseCatalog(raw, path);
}
