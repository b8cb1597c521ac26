/**
 * Currencies Stripe accepts for presentment, with the exponent Stripe's API uses for the amount
 * (the number of minor-unit digits). Stripe's special cases follow its API, not ISO 4217:
 * ISK, HUF and TWD are sent with two decimals, and so is UGX: the shilling has had no subunit since
 * 2013 (ISO 4217 says 0 digits), but Stripe kept it a two-decimal currency for backwards compatibility,
 * like ISK, so 5,000 USh is sent as 500000 and the last two digits must be 00 (chargeAmountStep).
 * Older Stripe pages list UGX among the zero-decimal currencies; reading it so would charge a hundred
 * times less than asked.
 */
// prettier-ignore
const ZERO_DECIMAL = [
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
] as const;

// prettier-ignore
const THREE_DECIMAL = ['bhd', 'jod', 'kwd', 'omr', 'tnd'] as const;

// prettier-ignore
const TWO_DECIMAL = [
  'usd', 'aed', 'afn', 'all', 'amd', 'ang', 'aoa', 'ars', 'aud', 'awg', 'azn', 'bam', 'bbd', 'bdt', 'bgn', 'bmd',
  'bnd', 'bob', 'brl', 'bsd', 'bwp', 'byn', 'bzd', 'cad', 'cdf', 'chf', 'cny', 'cop', 'crc', 'cve', 'czk', 'dkk',
  'dop', 'dzd', 'egp', 'etb', 'eur', 'fjd', 'fkp', 'gbp', 'gel', 'gip', 'gmd', 'gtq', 'gyd', 'hkd', 'hnl', 'htg',
  'huf', 'idr', 'ils', 'inr', 'isk', 'jmd', 'kes', 'kgs', 'khr', 'kyd', 'kzt', 'lak', 'lbp', 'lkr', 'lrd', 'lsl',
  'mad', 'mdl', 'mkd', 'mmk', 'mnt', 'mop', 'mur', 'mvr', 'mwk', 'mxn', 'myr', 'mzn', 'nad', 'ngn', 'nio', 'nok',
  'npr', 'nzd', 'pab', 'pen', 'pgk', 'php', 'pkr', 'pln', 'qar', 'ron', 'rsd', 'rub', 'sar', 'sbd', 'scr', 'sek',
  'sgd', 'shp', 'sle', 'sos', 'srd', 'std', 'szl', 'thb', 'tjs', 'top', 'try', 'ttd', 'twd', 'tzs', 'uah', 'uyu',
  'ugx', 'uzs', 'wst', 'xcd', 'xcg', 'yer', 'zar', 'zmw',
] as const;

/** Currencies whose smallest unit is the major unit (JPY, KRW, ...). */
export const ZERO_DECIMAL_CURRENCIES: readonly string[] = ZERO_DECIMAL;
/** Currencies with three minor digits (KWD, BHD, ...). */
export const THREE_DECIMAL_CURRENCIES: readonly string[] = THREE_DECIMAL;

/** Lower-case ISO 4217 code -> number of minor-unit digits, for every supported currency. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, 0 | 2 | 3>> = Object.freeze(
  Object.fromEntries([
    ...TWO_DECIMAL.map((c) => [c, 2] as const),
    ...ZERO_DECIMAL.map((c) => [c, 0] as const),
    ...THREE_DECIMAL.map((c) => [c, 3] as const),
  ]),
);

/** Lower-cases a currency code the way Stripe stores it ('USD' -> 'usd'). */
export function normalizeCurrency(currency: string): string {
  return currency.trim().toLowerCase();
}

/** True for an ISO 4217 code (any case) that Stripe accepts. */
export function isSupportedCurrency(currency: unknown): currency is string {
  return typeof currency === 'string' && Object.hasOwn(CURRENCY_EXPONENTS, normalizeCurrency(currency));
}

/** Minor-unit digits of a supported currency (USD 2, JPY 0, KWD 3); undefined when unsupported. */
export function currencyExponent(currency: string): 0 | 2 | 3 | undefined {
  const code = normalizeCurrency(currency);
  return Object.hasOwn(CURRENCY_EXPONENTS, code) ? CURRENCY_EXPONENTS[code] : undefined;
}
