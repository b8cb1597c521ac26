import { DomainInvariantError, rejection, type DomainRejection } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';
import { currencyExponent, normalizeCurrency } from '../money/currency.js';
import type { Money } from '../money/money.js';

/*
 * Stripe's limits on a charge amount, from its "Supported currencies" page
 * (https://docs.stripe.com/currencies, sections "Minimum and maximum charge amounts", "Special cases"
 * and "Three-decimal currencies"). Stripe applies the minimum of the account's settlement currency
 * after conversion; we cannot convert, so a charge is checked against the minimum of its own
 * currency: what Stripe surely refuses is refused here, a conversion-dependent refusal still comes
 * from Stripe (a 402/502 with Stripe's code).
 */

/**
 * Stripe's published minimum charge per currency, in minor units of that currency (the page gives
 * major units: 0.50 USD -> 50, 50 JPY -> 50, 175.00 HUF -> 17500). A currency not listed has no
 * published minimum: one step ({@link chargeAmountStep}) is its smallest amount.
 */
export const STRIPE_MINIMUM_CHARGE_AMOUNTS: Readonly<Record<string, number>> = Object.freeze({
  usd: 50, // 0.50 USD
  aed: 200, // 2.00 AED
  ars: 50, // 0.50 ARS
  aud: 50, // 0.50 AUD
  brl: 50, // 0.50 BRL
  cad: 50, // 0.50 CAD
  chf: 50, // 0.50 CHF
  cop: 50, // 0.50 COP
  czk: 1500, // 15.00 CZK
  dkk: 250, // 2.50 DKK
  eur: 50, // 0.50 EUR
  gbp: 30, // 0.30 GBP
  hkd: 400, // 4.00 HKD
  huf: 17500, // 175.00 HUF
  idr: 50, // 0.50 IDR
  ils: 50, // 0.50 ILS
  inr: 50, // 0.50 INR
  jpy: 50, // 50 JPY (zero-decimal: the amount is in yen)
  krw: 50, // 50 KRW (zero-decimal)
  mxn: 1000, // 10 MXN
  myr: 200, // 2.00 MYR
  nok: 300, // 3.00 NOK
  nzd: 50, // 0.50 NZD
  php: 50, // 0.50 PHP
  pln: 200, // 2.00 PLN
  ron: 200, // 2.00 RON
  rub: 50, // 0.50 RUB
  sek: 300, // 3.00 SEK
  sgd: 50, // 0.50 SGD
  thb: 1000, // 10 THB
  zar: 50, // 0.50 ZAR
});

/**
 * Stripe's largest amount, in minor units: eight digits (999,999.99) in every currency but IDR (12
 * digits), COP (10) and INR (9). These are the page's limits for non-card methods; cards allow more
 * (12 digits, American Express 9), so they hold whatever the saved method is.
 */
export const STRIPE_MAXIMUM_CHARGE_AMOUNT = 99_999_999;
const STRIPE_MAXIMUM_OVERRIDES: Readonly<Record<string, number>> = Object.freeze({
  idr: 999_999_999_999,
  cop: 9_999_999_999,
  inr: 999_999_999,
});

/**
 * Currencies Stripe takes only in whole multiples of a step beyond what the exponent says. ISK and
 * UGX are whole-unit currencies sent with two decimals that must be 00 ("You can't charge fractions
 * of ISK"; the same for UGX, see currency.ts). Three-decimal currencies (BHD, JOD, KWD, OMR, TND) need the last digit
 * to be 0 ("round amounts to the nearest ten": 5.124 KWD must be sent as 5120 or 5130), derived from
 * the exponent table.
 */
const STEP_OVERRIDES: Readonly<Record<string, number>> = Object.freeze({ isk: 100, ugx: 100 });

/** Stripe's limits on a charge in one currency, all in minor units of that currency. */
export interface ChargeAmountLimits {
  readonly currency: string;
  /** The smallest amount (the published minimum, else one step). */
  readonly minimum: number;
  /** The largest amount Stripe accepts. */
  readonly maximum: number;
  /** The amount must be a whole multiple of this: 1; 10 for three-decimal currencies; 100 for ISK, UGX. */
  readonly step: number;
}

/** The multiple a charge in `currency` must be of; throws for a currency the table does not know. */
export function chargeAmountStep(currency: string): number {
  const code = normalizeCurrency(currency);
  const exponent = currencyExponent(code);
  if (exponent === undefined) throw new DomainInvariantError(`unsupported currency: ${currency}`);
  return STEP_OVERRIDES[code] ?? (exponent === 3 ? 10 : 1);
}

/** Stripe's limits on a charge in `currency`; throws DomainInvariantError for an unsupported one. */
export function stripeChargeLimits(currency: string): ChargeAmountLimits {
  const code = normalizeCurrency(currency);
  const step = chargeAmountStep(code);
  return {
    currency: code,
    minimum: STRIPE_MINIMUM_CHARGE_AMOUNTS[code] ?? step,
    maximum: STRIPE_MAXIMUM_OVERRIDES[code] ?? STRIPE_MAXIMUM_CHARGE_AMOUNT,
    step,
  };
}

/**
 * Checks a one-time charge before anything is written or sent, so that what Stripe would refuse is
 * refused with a clear code: `invalid_amount` (not positive, or not a multiple of the currency's
 * step), `amount_too_small` (below Stripe's minimum), `amount_too_large` (above Stripe's maximum or
 * above `configuredMaximum`, the operator's cap in minor units of the charge's own currency). The
 * details carry the limit that was broken, in minor units.
 */
export function checkChargeAmount(
  amount: Money,
  configuredMaximum: number = Number.MAX_SAFE_INTEGER,
): Result<Money, DomainRejection> {
  if (!Number.isSafeInteger(configuredMaximum) || configuredMaximum < 1) {
    throw new DomainInvariantError('the configured maximum must be a positive safe integer', {
      configuredMaximum,
    });
  }
  const limits = stripeChargeLimits(amount.currency);
  const value = amount.amountMinor;
  const base = { amount: value, currency: limits.currency };
  if (value <= 0) {
    return err(rejection('invalid_amount', 'amount must be greater than 0 minor units', base));
  }
  if (value < limits.minimum) {
    return err(
      rejection(
        'amount_too_small',
        `amount must be at least ${limits.minimum} minor units of ${limits.currency} (Stripe's minimum charge)`,
        { ...base, minimum: limits.minimum },
      ),
    );
  }
  if (value > limits.maximum) {
    return err(
      rejection(
        'amount_too_large',
        `amount must be at most ${limits.maximum} minor units of ${limits.currency} (Stripe's maximum charge)`,
        { ...base, maximum: limits.maximum, limit: 'stripe' },
      ),
    );
  }
  if (value > configuredMaximum) {
    return err(
      rejection(
        'amount_too_large',
        `amount must be at most ${configuredMaximum} minor units of ${limits.currency} (this service's maximum payment)`,
        { ...base, maximum: configuredMaximum, limit: 'configured' },
      ),
    );
  }
  if (value % limits.step !== 0) {
    return err(
      rejection(
        'invalid_amount',
        `amount in ${limits.currency} must be a multiple of ${limits.step} minor units (Stripe requires it)`,
        { ...base, multipleOf: limits.step },
      ),
    );
  }
  return ok(amount);
}
