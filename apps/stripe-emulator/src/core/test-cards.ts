/**
 * Stripe's test cards (docs.stripe.com/testing) and what the emulator does with each. `behavior`
 * decides attach / setup / charge outcomes; shortcuts (`pm_card_*`, `tok_*`) map to a card number.
 */
export type CardBehavior =
  | { kind: 'success' }
  /** Declined at attach, setup and charge. */
  | { kind: 'decline'; code: string; declineCode: string; message: string }
  /** Attaches and sets up fine; every charge is declined (the dunning card). */
  | { kind: 'charge_fail' }
  /** Every payment needs 3-D Secure. */
  | { kind: 'auth_always' }
  /** 3-D Secure on setup and on payments not preceded by a setup; off-session payments then succeed. */
  | { kind: 'auth_on_setup' }
  /** Charges succeed; refunds fail asynchronously. */
  | { kind: 'refund_fail' };

export interface TestCard {
  number: string;
  brand: 'visa' | 'mastercard' | 'amex' | 'discover' | 'unionpay' | 'jcb' | 'diners';
  funding: 'credit' | 'debit' | 'prepaid';
  country: string;
  behavior: CardBehavior;
}

const GENERIC = { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' };

export const DECLINES = {
  generic_decline: GENERIC,
  insufficient_funds: {
    code: 'card_declined',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  lost_card: { code: 'card_declined', declineCode: 'lost_card', message: 'Your card was declined.' },
  stolen_card: { code: 'card_declined', declineCode: 'stolen_card', message: 'Your card was declined.' },
  expired_card: { code: 'expired_card', declineCode: 'expired_card', message: 'Your card has expired.' },
  incorrect_cvc: {
    code: 'incorrect_cvc',
    declineCode: 'incorrect_cvc',
    message: "Your card's security code is incorrect.",
  },
  processing_error: {
    code: 'processing_error',
    declineCode: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  },
} as const;

function card(
  number: string,
  brand: TestCard['brand'],
  funding: TestCard['funding'],
  behavior: CardBehavior = { kind: 'success' },
  country = 'US',
): TestCard {
  return { number, brand, funding, country, behavior };
}

function decline(name: keyof typeof DECLINES): CardBehavior {
  return { kind: 'decline', ...DECLINES[name] };
}

/** Card number -> test card. */
export const TEST_CARDS: ReadonlyMap<string, TestCard> = new Map(
  [
    card('4242424242424242', 'visa', 'credit'),
    card('4000056655665556', 'visa', 'debit'),
    card('5555555555554444', 'mastercard', 'credit'),
    card('2223003122003222', 'mastercard', 'credit'),
    card('5200828282828210', 'mastercard', 'debit'),
    card('5105105105105100', 'mastercard', 'prepaid'),
    card('378282246310005', 'amex', 'credit'),
    card('371449635398431', 'amex', 'credit'),
    card('6011111111111117', 'discover', 'credit'),
    card('3056930009020004', 'diners', 'credit'),
    card('3566002020360505', 'jcb', 'credit', { kind: 'success' }, 'JP'),
    card('6200000000000005', 'unionpay', 'credit', { kind: 'success' }, 'CN'),
    card('4000000760000002', 'visa', 'credit', { kind: 'success' }, 'BR'),
    card('4000000000000077', 'visa', 'credit'),
    card('4000000000000002', 'visa', 'credit', decline('generic_decline')),
    card('4000000000009995', 'visa', 'credit', decline('insufficient_funds')),
    card('4000000000009987', 'visa', 'credit', decline('lost_card')),
    card('4000000000009979', 'visa', 'credit', decline('stolen_card')),
    card('4000000000000069', 'visa', 'credit', decline('expired_card')),
    card('4000000000000127', 'visa', 'credit', decline('incorrect_cvc')),
    card('4000000000000119', 'visa', 'credit', decline('processing_error')),
    card('4000000000000341', 'visa', 'credit', { kind: 'charge_fail' }),
    card('4000002760003184', 'visa', 'credit', { kind: 'auth_always' }),
    card('4000000000003220', 'visa', 'credit', { kind: 'auth_always' }),
    card('4000002500003155', 'visa', 'credit', { kind: 'auth_on_setup' }),
    card('4000000000005126', 'visa', 'credit', { kind: 'refund_fail' }),
  ].map((c) => [c.number, c]),
);

/** Shortcut name (after `pm_card_` / `tok_`) -> card number. */
const SHORTCUTS: Readonly<Record<string, string>> = {
  visa: '4242424242424242',
  visa_debit: '4000056655665556',
  mastercard: '5555555555554444',
  mastercard_debit: '5200828282828210',
  mastercard_prepaid: '5105105105105100',
  amex: '378282246310005',
  discover: '6011111111111117',
  diners: '3056930009020004',
  jcb: '3566002020360505',
  unionpay: '6200000000000005',
  br: '4000000760000002',
  bypassPending: '4000000000000077',
  visa_chargeDeclined: '4000000000000002',
  chargeDeclined: '4000000000000002',
  visa_chargeDeclinedInsufficientFunds: '4000000000009995',
  chargeDeclinedInsufficientFunds: '4000000000009995',
  visa_chargeDeclinedLostCard: '4000000000009987',
  chargeDeclinedLostCard: '4000000000009987',
  visa_chargeDeclinedStolenCard: '4000000000009979',
  chargeDeclinedStolenCard: '4000000000009979',
  chargeDeclinedExpiredCard: '4000000000000069',
  visa_chargeDeclinedExpiredCard: '4000000000000069',
  chargeDeclinedIncorrectCvc: '4000000000000127',
  visa_chargeDeclinedIncorrectCvc: '4000000000000127',
  chargeDeclinedProcessingError: '4000000000000119',
  visa_chargeDeclinedProcessingError: '4000000000000119',
  chargeCustomerFail: '4000000000000341',
  authenticationRequired: '4000002760003184',
  threeDSecure2Required: '4000000000003220',
  threeDSecureRequired: '4000000000003220',
  authenticationRequiredOnSetup: '4000002500003155',
  authenticationRequiredSetupForOffSession: '4000002500003155',
  refundFail: '4000000000005126',
};

/** `pm_card_visa` / `tok_visa` -> its test card; undefined for anything else. */
export function cardForShortcut(id: string): TestCard | undefined {
  let name: string | undefined;
  if (id.startsWith('pm_card_')) name = id.slice('pm_card_'.length);
  else if (id.startsWith('tok_')) name = id.slice('tok_'.length);
  if (name === undefined) return undefined;
  const number = SHORTCUTS[name];
  return number ? TEST_CARDS.get(number) : undefined;
}

/** Any other Luhn-valid number behaves like a plain success card of the brand its prefix says. */
export function cardForNumber(number: string): TestCard | undefined {
  const digits = number.replace(/[\s-]/g, '');
  const known = TEST_CARDS.get(digits);
  if (known) return known;
  if (!/^\d{12,19}$/.test(digits) || !luhn(digits)) return undefined;
  return {
    number: digits,
    brand: brandOf(digits),
    funding: 'credit',
    country: 'US',
    behavior: { kind: 'success' },
  };
}

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function brandOf(digits: string): TestCard['brand'] {
  if (digits.startsWith('4')) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(digits)) return 'mastercard';
  if (/^3[47]/.test(digits)) return 'amex';
  if (/^(6011|65)/.test(digits)) return 'discover';
  if (/^35/.test(digits)) return 'jcb';
  if (/^3[068]/.test(digits)) return 'diners';
  if (/^62/.test(digits)) return 'unionpay';
  return 'visa';
}

/** Display names the API uses in `display_brand`. */
export function displayBrand(brand: TestCard['brand']): string {
  return brand === 'amex' ? 'american_express' : brand;
}
