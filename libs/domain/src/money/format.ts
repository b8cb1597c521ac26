import { exponentOf, type Money } from './money.js';

/**
 * The exact major-unit decimal string of `m` ("-1234.50" for -123450 USD cents, "1234" for JPY),
 * built from the integer digits only: no float division, so it never mis-rounds.
 */
export function toDecimalString(m: Money): string {
  const exponent = exponentOf(m);
  const digits = Math.abs(m.amountMinor)
    .toString()
    .padStart(exponent + 1, '0');
  const sign = m.amountMinor < 0 ? '-' : '';
  if (exponent === 0) return `${sign}${digits}`;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * Display only: formats `m` for `locale` with Intl.NumberFormat. The value handed to Intl is the exact
 * decimal string (Intl formats numeric strings exactly, ES2023), and the fraction digits come from
 * our exponent table, so JPY shows no decimals, KWD three, and large amounts keep every cent. Where
 * Stripe's exponent exceeds the currency's own digits (ISK and UGX: whole units sent with two decimals)
 * the decimals show only when they are not zero: "ISK 123", and an old fractional "ISK 123.45" exactly.
 */
export function formatMoney(m: Money, locale: string): string {
  const exponent = exponentOf(m);
  const currency = m.currency.toUpperCase();
  const key = `${locale}|${currency}|${exponent}`;
  let formatter = FORMATTERS.get(key);
  if (!formatter) {
    const ownDigits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .minimumFractionDigits;
    formatter = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: Math.min(exponent, ownDigits ?? exponent),
      maximumFractionDigits: exponent,
    });
    // Building a formatter costs far more than using one; the set of locales and currencies is small,
    // and the bound keeps odd inputs from growing it.
    if (FORMATTERS.size >= MAX_FORMATTERS) FORMATTERS.clear();
    FORMATTERS.set(key, formatter);
  }
  return formatter.format(toDecimalString(m) as Intl.StringNumericLiteral);
}

const MAX_FORMATTERS = 256;
const FORMATTERS = new Map<string, Intl.NumberFormat>();
