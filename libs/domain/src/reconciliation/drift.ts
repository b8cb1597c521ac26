/**
 * Reconciliation (R-REC): what differs between a Stripe object and the app's mirror of it, and whether
 * the difference is safe to repair by applying Stripe's object (the app is behind Stripe) or must wait
 * for an admin (the app grants what Stripe no longer bills, or amounts disagree). Pure: the facts come in
 * as plain values read by the owning modules.
 */

export type DriftObject = 'subscription' | 'invoice' | 'payment' | 'refund';

export type DriftKind =
  | 'missing_in_app'
  | 'missing_in_stripe'
  | 'status'
  | 'plan'
  | 'seats'
  | 'period_end'
  | 'cancel_at_period_end'
  | 'invoice_status'
  | 'invoice_amount'
  | 'payment_status'
  | 'payment_amount'
  | 'amount_refunded'
  | 'balance_amount'
  | 'fee'
  | 'net';

export const DRIFT_KINDS: readonly DriftKind[] = [
  'missing_in_app',
  'missing_in_stripe',
  'status',
  'plan',
  'seats',
  'period_end',
  'cancel_at_period_end',
  'invoice_status',
  'invoice_amount',
  'payment_status',
  'payment_amount',
  'amount_refunded',
  'balance_amount',
  'fee',
  'net',
];

/** One difference: what the app has, what Stripe has, and whether applying Stripe's object is safe. */
export interface Drift {
  kind: DriftKind;
  safe: boolean;
  app: Record<string, unknown> | null;
  stripe: Record<string, unknown> | null;
  /** One line for the admin: why this is (un)safe. */
  reason: string;
}

/** A Stripe subscription as reconciliation compares it. Times are Unix seconds. */
export interface StripeSideSubscriptionFacts {
  stripeId: string;
  status: string;
  /** Every item's price and quantity. */
  items: readonly { priceId: string; quantity: number }[];
  /** Seats read from the items' lookup keys (the seat item's quantity; 0 without one). */
  seats: number;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
}

/** The app's mirror of a subscription. */
export interface MirroredSubscriptionFacts {
  stripeId: string;
  accountId: string;
  /** The Stripe status last mirrored. */
  status: string;
  /** The app state (the machine's). */
  appState: string;
  basePriceId: string | null;
  seatPriceId: string | null;
  seats: number;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  /** The app grants a paid plan now (a live state on a plan other than Free). */
  grantsPaidTier: boolean;
}

/**
 * The drift of an object found on one side only: missing in the app (safe: the mirror files it) or
 * missing at Stripe (never safe: nothing at Stripe to apply). Nothing when it is on neither side.
 */
function oneSided(
  what: DriftObject,
  stripe: (() => Record<string, unknown>) | null,
  app: (() => Record<string, unknown>) | null,
  missingAtStripe: string,
): Drift[] {
  if (stripe) {
    return [
      {
        kind: 'missing_in_app',
        safe: true,
        app: null,
        stripe: stripe(),
        reason: `Stripe has ${what === 'invoice' ? 'an' : 'a'} ${what} the app never mirrored: the mirror files it.`,
      },
    ];
  }
  if (app)
    return [{ kind: 'missing_in_stripe', safe: false, app: app(), stripe: null, reason: missingAtStripe }];
  return [];
}

/** Stripe statuses under which Stripe bills (or is about to bill) the subscription. */
const BILLING_STATUSES: ReadonlySet<string> = new Set(['active', 'trialing', 'past_due']);

/**
 * The drifts of one subscription, in a fixed order. The app being behind Stripe is safe (the mirror
 * applies Stripe's object through the machine), except where the app would keep granting a paid tier
 * that Stripe no longer bills (status ended or unbilled, a plan Stripe does not bill, more seats than
 * Stripe bills): those wait for an admin.
 */
export function subscriptionDrifts(
  stripe: StripeSideSubscriptionFacts | null,
  app: MirroredSubscriptionFacts | null,
): Drift[] {
  if (!stripe || !app) {
    return oneSided(
      'subscription',
      stripe && (() => ({ status: stripe.status })),
      app && (() => ({ status: app.status, appState: app.appState })),
      app?.grantsPaidTier
        ? 'The app grants a paid tier for a subscription Stripe does not have.'
        : 'The app mirrors a subscription Stripe does not have.',
    );
  }
  const drifts: Drift[] = [];
  const stripeBills = BILLING_STATUSES.has(stripe.status);
  if (stripe.status !== app.status) {
    const unbilledGrant = app.grantsPaidTier && !stripeBills;
    drifts.push({
      kind: 'status',
      safe: !unbilledGrant,
      app: { status: app.status, appState: app.appState },
      stripe: { status: stripe.status },
      reason: unbilledGrant
        ? `The app grants a paid tier; Stripe's subscription is ${stripe.status} and no longer billed.`
        : 'The app is behind Stripe: the mirror applies the status through the machine.',
    });
  }
  const priceIds = stripe.items.map((i) => i.priceId);
  const planDrift = app.basePriceId !== null && !priceIds.includes(app.basePriceId);
  if (planDrift) {
    const unbilled = app.grantsPaidTier && !stripeBills;
    drifts.push({
      kind: 'plan',
      safe: !unbilled,
      app: { basePriceId: app.basePriceId },
      stripe: { priceIds },
      reason: unbilled
        ? 'The app grants a plan Stripe no longer bills.'
        : 'Stripe bills another price: the mirror reads the plan from the catalogue.',
    });
  }
  if (!planDrift) {
    const seatItem = app.seatPriceId ? stripe.items.find((i) => i.priceId === app.seatPriceId) : undefined;
    const stripeSeats = seatItem ? seatItem.quantity : stripe.seats;
    if (stripeSeats !== app.seats) {
      const grantsMore = app.seats > stripeSeats;
      drifts.push({
        kind: 'seats',
        safe: !grantsMore,
        app: { seats: app.seats },
        stripe: { seats: stripeSeats },
        reason: grantsMore
          ? 'The app grants more seats than Stripe bills.'
          : 'Stripe bills more seats than the app knows: the mirror applies them.',
      });
    }
  }
  if (stripe.currentPeriodEnd !== app.currentPeriodEnd) {
    drifts.push({
      kind: 'period_end',
      safe: true,
      app: { currentPeriodEnd: app.currentPeriodEnd },
      stripe: { currentPeriodEnd: stripe.currentPeriodEnd },
      reason: 'The app is behind Stripe on the billing period.',
    });
  }
  if (stripe.cancelAtPeriodEnd !== app.cancelAtPeriodEnd) {
    drifts.push({
      kind: 'cancel_at_period_end',
      safe: true,
      app: { cancelAtPeriodEnd: app.cancelAtPeriodEnd },
      stripe: { cancelAtPeriodEnd: stripe.cancelAtPeriodEnd },
      reason: 'The app is behind Stripe on the scheduled cancellation.',
    });
  }
  return drifts;
}

/** An invoice's status and amounts (minor units), on either side. */
export interface InvoiceFacts {
  stripeId: string;
  status: string;
  currency: string;
  amountDue: number;
  amountPaid: number;
  amountRemaining: number;
  total: number;
}

const INVOICE_AMOUNTS = ['amountDue', 'amountPaid', 'amountRemaining', 'total'] as const;

/**
 * The drifts of one invoice: a status the app has not caught up with is safe (the invoice mirror applies
 * Stripe's invoice, amounts included); amounts that disagree under the same status are not.
 */
export function invoiceDrifts(stripe: InvoiceFacts | null, app: InvoiceFacts | null): Drift[] {
  if (!stripe || !app) {
    return oneSided(
      'invoice',
      stripe && (() => ({ status: stripe.status, total: stripe.total })),
      app && (() => ({ status: app.status, total: app.total })),
      'The app mirrors an invoice Stripe does not have.',
    );
  }
  if (stripe.status !== app.status) {
    return [
      {
        kind: 'invoice_status',
        safe: true,
        app: { status: app.status, amountPaid: app.amountPaid },
        stripe: { status: stripe.status, amountPaid: stripe.amountPaid },
        reason: 'The app is behind Stripe: the invoice mirror applies its status and amounts.',
      },
    ];
  }
  const differing = INVOICE_AMOUNTS.filter((k) => stripe[k] !== app[k]);
  if (differing.length === 0 && stripe.currency === app.currency) return [];
  const pick = (f: InvoiceFacts): Record<string, unknown> => {
    const picked: Record<string, unknown> = { currency: f.currency };
    for (const k of differing) picked[k] = f[k];
    return picked;
  };
  return [
    {
      kind: 'invoice_amount',
      safe: false,
      app: pick(app),
      stripe: pick(stripe),
      reason: 'Amounts disagree under the same status: a finance question for an admin.',
    },
  ];
}

/** A payment (PaymentIntent) on either side: the app's payment status, amounts in minor units. */
export interface PaymentFacts {
  stripeId: string;
  /** The app's payment status (for Stripe: the status its PaymentIntent maps to). */
  status: string;
  currency: string;
  amount: number;
  amountRefunded: number;
}

/** Statuses of a captured payment that refunds move it to; Stripe's PaymentIntent stays `succeeded`. */
const CAPTURED: ReadonlySet<string> = new Set(['succeeded', 'partially_refunded', 'refunded']);

/**
 * The drifts of one payment: a status or refunds the app has not caught up with are safe (the payment
 * and refund mirrors apply them); an amount that disagrees, or more refunded in the app than at Stripe,
 * is not.
 */
export function paymentDrifts(stripe: PaymentFacts | null, app: PaymentFacts | null): Drift[] {
  if (!stripe || !app) {
    return oneSided(
      'payment',
      stripe && (() => ({ status: stripe.status, amount: stripe.amount })),
      app && (() => ({ status: app.status, amount: app.amount })),
      'The app has a payment Stripe does not have.',
    );
  }
  const drifts: Drift[] = [];
  if (stripe.amount !== app.amount || stripe.currency !== app.currency) {
    drifts.push({
      kind: 'payment_amount',
      safe: false,
      app: { amount: app.amount, currency: app.currency },
      stripe: { amount: stripe.amount, currency: stripe.currency },
      reason: 'The amounts disagree: a finance question for an admin.',
    });
  }
  const sameStatus =
    stripe.status === app.status || (stripe.status === 'succeeded' && CAPTURED.has(app.status));
  if (!sameStatus) {
    drifts.push({
      kind: 'payment_status',
      safe: true,
      app: { status: app.status },
      stripe: { status: stripe.status },
      reason: 'The app is behind Stripe: the payment mirror applies the status.',
    });
  }
  if (stripe.amountRefunded !== app.amountRefunded) {
    const appAhead = app.amountRefunded > stripe.amountRefunded;
    drifts.push({
      kind: 'amount_refunded',
      safe: !appAhead,
      app: { amountRefunded: app.amountRefunded },
      stripe: { amountRefunded: stripe.amountRefunded },
      reason: appAhead
        ? 'The app counts more refunded than Stripe did.'
        : 'Stripe refunded more than the app knows: the refund mirror applies the refunds.',
    });
  }
  return drifts;
}

/**
 * A balance transaction as Stripe has it (minor units, signed as Stripe signs them: a charge's is
 * positive, a refund's negative): what a finance team checks against the books.
 */
export interface BalanceFacts {
  balanceTransactionId: string;
  currency: string;
  amount: number;
  fee: number;
  net: number;
}

/**
 * What the app records of the same money: the amount (a payment's captured amount, a refund's amount
 * negated, so that both sides are signed alike), and the fee and net mirrored from the balance
 * transaction (null while the app has not recorded them).
 */
export interface RecordedBalanceFacts {
  currency: string;
  amount: number;
  fee: number | null;
  net: number | null;
}

/**
 * The drifts of the money of one succeeded charge or refund: its balance transaction's amount, fee and
 * net against what the app records. A fee or net the app has not recorded yet (the webhook that carries
 * it was lost, or the row predates fee mirroring) is the app being behind Stripe: safe, the mirror reads
 * them. Any recorded value that disagrees is a finance question: unsafe, an admin decides. Nothing when
 * Stripe has no balance transaction (not captured yet) or the app has no such payment or refund (the
 * object comparisons report that).
 */
export function balanceDrifts(stripe: BalanceFacts | null, app: RecordedBalanceFacts | null): Drift[] {
  if (!stripe || !app) return [];
  const drifts: Drift[] = [];
  if (stripe.amount !== app.amount || stripe.currency !== app.currency) {
    drifts.push({
      kind: 'balance_amount',
      safe: false,
      app: { amount: app.amount, currency: app.currency },
      stripe: {
        amount: stripe.amount,
        currency: stripe.currency,
        balanceTransactionId: stripe.balanceTransactionId,
      },
      reason: "The balance transaction's amount differs from what the app records: a finance question.",
    });
  }
  for (const field of ['fee', 'net'] as const) {
    const recorded = app[field];
    if (recorded === stripe[field]) continue;
    const unrecorded = recorded === null;
    drifts.push({
      kind: field,
      safe: unrecorded,
      app: { [field]: recorded },
      stripe: { [field]: stripe[field], balanceTransactionId: stripe.balanceTransactionId },
      reason: unrecorded
        ? `The app has not recorded the ${field}: the mirror reads it from the balance transaction.`
        : `The ${field} differs from the balance transaction's: a finance question for an admin.`,
    });
  }
  return drifts;
}
