import { DomainInvariantError, rejection, type DomainRejection } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';
import { currencyExponent, isSupportedCurrency, normalizeCurrency } from './currency.js';

/** An amount of money in integer minor units (cents) of a lower-case ISO 4217 currency. Immutable. */
export interface Money {
  readonly amountMinor: number;
  readonly currency: string;
}

function checkedAmount(amountMinor: number, operation: string): number {
  if (!Number.isSafeInteger(amountMinor)) {
    throw new DomainInvariantError(`${operation}: amount is not a safe integer of minor units`, {
      amountMinor,
    });
  }
  // -0 would make equal amounts compare differently in Object.is-based tests and serialisers.
  return amountMinor === 0 ? 0 : amountMinor;
}

function make(amountMinor: number, currency: string, operation: string): Money {
  return Object.freeze({ amountMinor: checkedAmount(amountMinor, operation), currency });
}

/** Creates Money; throws DomainInvariantError on a non-safe-integer amount or an unsupported currency. */
export function money(amountMinor: number, currency: string): Money {
  if (!isSupportedCurrency(currency)) {
    throw new DomainInvariantError(`unsupported currency: ${String(currency)}`, { currency });
  }
  return make(amountMinor, normalizeCurrency(currency), 'money');
}

/** Validates untrusted input into Money, returning `invalid_amount` or `unsupported_currency`. */
export function parseMoney(amountMinor: unknown, currency: unknown): Result<Money, DomainRejection> {
  if (typeof amountMinor !== 'number' || !Number.isSafeInteger(amountMinor)) {
    return err(rejection('invalid_amount', 'amount must be a safe integer of minor units', { amountMinor }));
  }
  if (!isSupportedCurrency(currency)) {
    return err(rejection('unsupported_currency', 'currency is not a supported ISO 4217 code', { currency }));
  }
  return ok(money(amountMinor, currency));
}

/** Zero in `currency`. */
export function zero(currency: string): Money {
  return money(0, currency);
}

function assertSameCurrency(a: Money, b: Money, operation: string): void {
  if (a.currency !== b.currency) {
    throw new DomainInvariantError(`${operation}: currency mismatch (${a.currency} vs ${b.currency})`, {
      left: a.currency,
      right: b.currency,
    });
  }
}

/** Returns `currency_mismatch` unless both amounts share one currency (for untrusted pairs). */
export function ensureSameCurrency(a: Money, b: Money): Result<string, DomainRejection> {
  return a.currency === b.currency
    ? ok(a.currency)
    : err(
        rejection('currency_mismatch', 'amounts are in different currencies', {
          left: a.currency,
          right: b.currency,
        }),
      );
}

/** a + b; throws on currency mismatch or overflow. */
export function add(a: Money, b: Money): Money {
  assertSameCurrency(a, b, 'add');
  return make(a.amountMinor + b.amountMinor, a.currency, 'add');
}

/** a - b; throws on currency mismatch or overflow. */
export function subtract(a: Money, b: Money): Money {
  assertSameCurrency(a, b, 'subtract');
  return make(a.amountMinor - b.amountMinor, a.currency, 'subtract');
}

/** m x an integer factor (e.g. a seat quantity); throws on a non-integer factor or overflow. */
export function multiply(m: Money, integerFactor: number): Money {
  if (!Number.isSafeInteger(integerFactor)) {
    throw new DomainInvariantError('multiply: factor must be a safe integer', { integerFactor });
  }
  return make(m.amountMinor * integerFactor, m.currency, 'multiply');
}

/** -m. */
export function negate(m: Money): Money {
  return make(-m.amountMinor, m.currency, 'negate');
}

/** -1, 0 or 1; throws on currency mismatch. */
export function compare(a: Money, b: Money): -1 | 0 | 1 {
  assertSameCurrency(a, b, 'compare');
  return a.amountMinor < b.amountMinor ? -1 : a.amountMinor > b.amountMinor ? 1 : 0;
}

/** Same currency and amount (different currencies are simply not equal). */
export function equals(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.amountMinor === b.amountMinor;
}

/** amount = 0. */
export function isZero(m: Money): boolean {
  return m.amountMinor === 0;
}

/** amount > 0. */
export function isPositive(m: Money): boolean {
  return m.amountMinor > 0;
}

/** amount < 0. */
export function isNegative(m: Money): boolean {
  return m.amountMinor < 0;
}

/** Sum of a list in `currency` (zero for an empty list); throws if an item has another currency. */
export function sum(list: readonly Money[], currency: string): Money {
  return list.reduce((total, m) => add(total, m), zero(currency));
}

/** The smaller of two amounts (the first when equal). */
export function min(a: Money, b: Money): Money {
  return compare(a, b) <= 0 ? a : b;
}

/** The larger of two amounts (the first when equal). */
export function max(a: Money, b: Money): Money {
  return compare(a, b) >= 0 ? a : b;
}

/**
 * Splits `m` by integer ratios without losing or creating a unit: each share gets
 * floor(amount x ratio / total), and the units left over go to the shares with the largest fractional
 * parts (ties to the earlier share), so every share is strictly within one unit of its exact value.
 * Arithmetic is in BigInt so that amount x ratio cannot overflow. Negative amounts are split as the
 * negation of splitting the absolute amount.
 */
export function allocate(m: Money, ratios: readonly number[]): Money[] {
  if (ratios.length === 0) throw new DomainInvariantError('allocate: at least one ratio is required');
  for (const r of ratios) {
    if (!Number.isSafeInteger(r) || r < 0) {
      throw new DomainInvariantError('allocate: ratios must be non-negative safe integers', { ratios });
    }
  }
  const total = ratios.reduce((acc, r) => acc + BigInt(r), 0n);
  if (total === 0n) throw new DomainInvariantError('allocate: ratios must not all be zero', { ratios });

  const negative = m.amountMinor < 0;
  const amount = BigInt(Math.abs(m.amountMinor));
  const shares = ratios.map((r) => (amount * BigInt(r)) / total);
  const remainder = Number(amount - shares.reduce((acc, s) => acc + s, 0n));
  // Largest remainder: the units left over go to the shares with the largest fractional parts (ties to the
  // earlier share), so every share stays strictly within one unit of its exact value and the result is
  // deterministic. The leftover is smaller than the number of ratios, so it fits a number.
  const byFraction = ratios
    .map((r, index) => ({ index, fraction: (amount * BigInt(r)) % total }))
    .sort((a, b) => (a.fraction === b.fraction ? a.index - b.index : a.fraction > b.fraction ? -1 : 1));
  for (const { index } of byFraction.slice(0, remainder)) shares[index] = (shares[index] ?? 0n) + 1n;
  return shares.map((s) => make(Number(negative ? -s : s), m.currency, 'allocate'));
}

/** Exponent of the Money's currency; throws for a currency the table does not know. */
export function exponentOf(m: Money): 0 | 2 | 3 {
  const exponent = currencyExponent(m.currency);
  if (exponent === undefined) throw new DomainInvariantError(`unsupported currency: ${m.currency}`);
  return exponent;
}
