/**
 * `npm run seed:demo`: the demo accounts of R-OPS-6, made through the running service's own HTTP API and
 * the Stripe emulator's hosted Checkout and test clocks (one clock per account, so each account's time
 * moves on its own), as customers, Stripe and time would make them:
 * - "Acme Corp": Business yearly through Checkout, active, 20 of its 25 seats used (the owner and 19 members);
 * - "Startup Inc": a Pro trial without a card, its clock 11 days on (3 days of trial left);
 * - "Old Co": Pro monthly through Checkout, then the attach-then-fail card made the default, its clock past
 *   the renewal by 2 days: the renewal failed, past_due, a dunning case with Day 0 done and Day 3 pending.
 * Invoices, dunning steps and audit records are the ones those flows produce. Every request has a fixed
 * Idempotency-Key and every step looks at the state first (a clock already advanced is not advanced again),
 * so running it twice changes nothing.
 *
 * Test clocks, the test cards and the events are Stripe test mode's as much as the emulator's: the same code
 * runs against a real Stripe account's test mode (docs/getting-started.md, "Demo data"). One step is the
 * emulator's alone: paying the hosted Checkout page without a browser (its programmatic form). Stripe has no
 * API that completes a Checkout Session, so against real Stripe the script prints the page's address and
 * waits for a person to pay it with a test card. Live keys are refused: test clocks do not exist in live mode.
 */
import type Stripe from 'stripe';
import { exitWithHelpIfAsked } from './lib/help.js';
import { seedKit } from './lib/seed-kit.js';

exitWithHelpIfAsked(`
Usage: npm run seed:demo       (builds, then node dist/scripts/seed-demo.js)

Makes the demo accounts through the running service's API (npm start first), each on its own Stripe
test clock:
  Acme Corp     Business yearly, active, 20 of 25 seats used
  Startup Inc   Pro monthly trial, 3 days left, no payment method
  Old Co        Pro monthly, past_due since 2 days ago, dunning Day 0 done, Day 3 pending
Every request has a fixed Idempotency-Key and clocks already advanced are left alone: running it again
changes nothing.

Stripe: the emulator (STRIPE_API_BASE, or an sk_test_emulator… key), where it runs unattended; or a real
account's test mode (an sk_test_… key, STRIPE_API_BASE unset), which has the same test clocks, test cards
and events. Two Checkouts (Acme Corp, Old Co) are paid on Stripe's hosted page: the emulator's has a
programmatic form; real Stripe has no API that completes a Checkout Session, so the script prints each
page's address and waits (SEED_CHECKOUT_WAIT_SECONDS) for you to pay it in a browser with the test card
4242 4242 4242 4242. Against real Stripe the service must receive Stripe's events (stripe listen
--forward-to <service>/webhooks/stripe, its whsec_… in STRIPE_WEBHOOK_SECRETS) and the catalogue must be
synced (npm run catalog:sync). Live keys (sk_live_…, rk_live_…) are refused: test clocks are test mode only.
Real Stripe deletes a test clock, and its customer, 30 days after it was made: seed a fresh database then.
See docs/getting-started.md ("Demo data").
  SEED_API_URL                the service (default http://127.0.0.1:$PORT)
  JWT_SECRET                  signs the seed's admin token (from the environment or .env; development default)
  STRIPE_SECRET_KEY           the service's key (from the environment or .env), as the service reaches Stripe
  STRIPE_API_BASE             the emulator's address (unset: real Stripe)
  SEED_CHECKOUT_WAIT_SECONDS  [600] real Stripe only: how long to wait for each Checkout to be paid
  -h, --help                  this text
`);

const DAY = 86_400;
const kit = await seedKit('demo');
const { sign, stripe, keyOf, call, until } = kit;
const admin = await sign({ sub: 'seed-demo', role: 'admin' });
// Test clocks exist in test mode only (the emulator's keys are test keys too).
if (/^(sk|rk)_live_/.test(kit.env.STRIPE_SECRET_KEY))
  throw new Error('seed:demo runs in Stripe test mode only (test clocks): STRIPE_SECRET_KEY is a live key');
// The emulator's hosted Checkout page has a programmatic form; real Stripe's is paid in a browser.
const emulator = kit.stripeBase?.origin ?? null;
const checkoutWaitMs = Number(process.env.SEED_CHECKOUT_WAIT_SECONDS ?? 600) * 1000;
// Real Stripe advances a test clock in the background, which may take a minute or more.
const clockWaitMs = emulator ? 30_000 : 300_000;

interface AccountView {
  id: string;
  stripeCustomerId: string | null;
}
interface SubscriptionView {
  plan: { id: string };
  interval: string | null;
  state: string;
  renewsAt: string | null;
  trialEndsAt: string | null;
  seats: { used: number; total: number };
}
interface DunningView {
  case: { stage: string; day0: string; steps: Array<{ id: string; status: string }> } | null;
}

interface DemoAccount {
  name: string;
  billingEmail: string;
  locale: string;
  timeZone: string;
  owner: { userId: string; email: string };
}

const demoAccount = (
  name: string,
  billingEmail: string,
  [locale, timeZone]: [string, string],
  [userId, email]: [string, string],
): DemoAccount => ({ name, billingEmail, locale, timeZone, owner: { userId, email } });
const ACME = demoAccount(
  'Acme Corp',
  'billing@acme.example',
  ['en-US', 'America/New_York'],
  ['demo-acme-owner', 'owner@acme.example'],
);
const STARTUP = demoAccount(
  'Startup Inc',
  'founders@startup.example',
  ['en-GB', 'Europe/London'],
  ['demo-startup-owner', 'ceo@startup.example'],
);
const OLD_CO = demoAccount(
  'Old Co',
  'accounts@oldco.example',
  ['de-DE', 'Europe/Berlin'],
  ['demo-oldco-owner', 'chef@oldco.example'],
);

/**
 * The account, its owner's token and its test clock. A new account's Stripe customer is made here, on a
 * new clock and linked by `metadata.account_id` (Stripe's webhook tells the service, which adopts it as
 * the account's customer); an account that has one already keeps it and its clock.
 */
async function onClock(spec: DemoAccount) {
  const created = await call<{ id: string }>(
    'POST',
    '/v1/admin/accounts',
    admin,
    spec,
    keyOf('account', spec),
  );
  const accountId = created.id;
  const owner = await sign({ sub: spec.owner.userId, role: 'owner', account_id: accountId });
  let account = await call<AccountView>('GET', `/v1/accounts/${accountId}`, admin);
  if (!account.stripeCustomerId) {
    const clock = await stripe.testHelpers.testClocks.create(
      { frozen_time: Math.floor(Date.now() / 1000), name: spec.name },
      { idempotencyKey: keyOf(accountId, 'clock') },
    );
    const customer = await stripe.customers.create(
      {
        name: spec.name,
        email: spec.billingEmail,
        test_clock: clock.id,
        metadata: { account_id: accountId },
      },
      { idempotencyKey: keyOf(accountId, 'customer') },
    );
    account = await until(`${spec.name}'s Stripe customer`, async () => {
      const now = await call<AccountView>('GET', `/v1/accounts/${accountId}`, admin);
      return now.stripeCustomerId === customer.id ? now : undefined;
    });
  }
  const customer = await stripe.customers.retrieve(account.stripeCustomerId!);
  const clockId = 'deleted' in customer ? null : (customer.test_clock as string | null);
  if (!clockId) throw new Error(`${spec.name}'s Stripe customer is not on a test clock`);
  return { accountId, owner, clockId, customerId: account.stripeCustomerId!, replayed: created.replayed };
}

const subscription = (owner: string) => call<SubscriptionView>('GET', '/v1/subscription', owner);

/** Waits until the app's view of the subscription passes `ok`. */
async function subscriptionUntil(what: string, owner: string, ok: (s: SubscriptionView) => boolean) {
  let last: SubscriptionView | undefined;
  try {
    return await until(what, async () => {
      last = await subscription(owner);
      return ok(last) ? last : undefined;
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}; the subscription is ${JSON.stringify(last)}`, { cause: e });
  }
}

/** Pays Checkout for the plan with a test card (the hosted page's form), unless a subscription is live. */
async function subscribe(label: string, accountId: string, owner: string, plan: string, interval: string) {
  const now = await subscription(owner);
  if (now.plan.id === plan && ['active', 'past_due', 'trialing'].includes(now.state)) return;
  const session = await call<{ sessionId: string }>(
    'POST',
    '/v1/subscription/checkout',
    owner,
    { plan, interval },
    keyOf(accountId, 'checkout', plan, interval),
  );
  const checkout = await stripe.checkout.sessions.retrieve(session.sessionId);
  if (checkout.status === 'open') await payCheckout(label, checkout);
  // The browser comes back to the success URL; the webhook converges on the same subscription.
  await call('GET', `/v1/subscription/checkout/complete?session_id=${session.sessionId}`, null);
  await subscriptionUntil(`${label}'s ${plan} subscription`, owner, (s) => s.state === 'active');
}

/**
 * Pays an open Checkout Session with a test card, as the customer does on the hosted page: the emulator's
 * page through its programmatic form; real Stripe's (no API completes a session) by a person in a browser,
 * whom the script asks and then waits for.
 */
async function payCheckout(label: string, checkout: Stripe.Checkout.Session): Promise<void> {
  if (emulator) {
    const done = await fetch(`${emulator}/_emulator/checkout/${checkout.id}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payment_method=pm_card_visa',
    });
    if (!done.ok) throw new Error(`${label}: Checkout answered ${done.status}: ${await done.text()}`);
    return;
  }
  process.stdout.write(
    `${label}: pay Stripe's Checkout page in a browser with the test card 4242 4242 4242 4242 (any future ` +
      `date, any CVC): ${checkout.url}\n`,
  );
  await until(
    `${label}'s Checkout to be paid`,
    async () => {
      const now = await stripe.checkout.sessions.retrieve(checkout.id);
      return now.status === 'complete' ? now : undefined;
    },
    checkoutWaitMs,
  );
}

/** Advances the clock to `to` (Unix seconds) unless it is there already, and waits until it is ready. */
async function advanceClock(label: string, clockId: string, to: number): Promise<boolean> {
  const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
  if (clock.frozen_time >= to) return false;
  await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: to });
  await until(
    `${label}'s test clock`,
    async () => {
      const now = await stripe.testHelpers.testClocks.retrieve(clockId);
      return now.status === 'ready' ? now : undefined;
    },
    clockWaitMs,
  );
  return true;
}

/**
 * Waits until the service has applied (or deliberately ignored) every Stripe event so far about the
 * customer and its objects, as its admin API shows them: the webhooks of a clock advance have arrived.
 */
async function settled(label: string, customerId: string): Promise<void> {
  const events = (await stripe.events.list({ limit: 100 })).data.filter((e) => {
    const object = e.data.object as { id?: string; customer?: unknown };
    return object.id === customerId || object.customer === customerId;
  });
  await until(`the service to apply ${label}'s Stripe events`, async () => {
    for (const event of events) {
      const stored = await call<{ status: string }>(
        'GET',
        `/v1/admin/webhook-events/${event.id}`,
        admin,
      ).catch(() => undefined);
      if (stored?.status !== 'processed' && stored?.status !== 'ignored') return undefined;
    }
    return true;
  });
}

const seconds = (iso: string | null): number => {
  if (!iso) throw new Error('expected a date');
  return Math.floor(new Date(iso).getTime() / 1000);
};
const lines: string[] = [];

// Acme Corp: Business yearly, active, the owner and 19 members on 25 included seats.
{
  const a = await onClock(ACME);
  await subscribe(ACME.name, a.accountId, a.owner, 'business', 'year');
  const members = await call<{ data: Array<{ userId: string }> }>(
    'GET',
    `/v1/accounts/${a.accountId}/members`,
    admin,
  );
  const present = new Set(members.data.map((m) => m.userId));
  for (let i = 1; i <= 19; i += 1) {
    const userId = `demo-acme-member-${String(i).padStart(2, '0')}`;
    if (present.has(userId)) continue;
    await call(
      'POST',
      `/v1/accounts/${a.accountId}/members`,
      a.owner,
      { userId, email: `${userId}@acme.example` },
      keyOf(a.accountId, 'member', userId),
    );
  }
  const s = await subscription(a.owner);
  lines.push(
    `${ACME.name}: account ${a.accountId}${a.replayed ? ' (already seeded)' : ''}; ${s.plan.id} ${s.interval} ${s.state}; seats ${s.seats.used}/${s.seats.total}`,
  );
}

// Startup Inc: a Pro trial without a card; its clock 11 days on, so 3 of its 14 days are left.
{
  const a = await onClock(STARTUP);
  let s: SubscriptionView = await subscription(a.owner);
  if (s.state !== 'trialing')
    s = await call<SubscriptionView>(
      'POST',
      '/v1/subscription/trial',
      a.owner,
      { plan: 'pro' },
      keyOf(a.accountId, 'trial', 'pro'),
    );
  const trialEnd = seconds(s.trialEndsAt);
  await advanceClock(STARTUP.name, a.clockId, trialEnd - 3 * DAY);
  await settled(STARTUP.name, a.customerId);
  s = await subscriptionUntil(`${STARTUP.name}'s trial`, a.owner, (x) => x.state === 'trialing');
  lines.push(
    `${STARTUP.name}: account ${a.accountId}${a.replayed ? ' (already seeded)' : ''}; ${s.plan.id} ${s.interval} ${s.state}; trial ends ${s.trialEndsAt}`,
  );
}

// Old Co: Pro monthly, then the attach-then-fail card as the default and the clock 2 days past the
// renewal: the renewal fails, the account is past_due and dunning has run Day 0.
{
  const a = await onClock(OLD_CO);
  await subscribe(OLD_CO.name, a.accountId, a.owner, 'pro', 'month');
  let s: SubscriptionView = await subscription(a.owner);
  if (s.state === 'active') {
    // The owner saves the attach-then-fail card (it attaches, every charge of it is declined) and makes it
    // the default through the API, which also makes it the card of the subscription Checkout made.
    const failing = await kit.saveCard(OLD_CO.name, a.accountId, a.owner, 'pm_card_chargeCustomerFail');
    await call(
      'POST',
      `/v1/payment-methods/${failing.id}/default`,
      a.owner,
      undefined,
      keyOf(a.accountId, 'default'),
    );
    await advanceClock(OLD_CO.name, a.clockId, seconds(s.renewsAt) + 2 * DAY);
    await settled(OLD_CO.name, a.customerId);
  }
  s = await subscriptionUntil(`${OLD_CO.name} past_due`, a.owner, (x) => x.state === 'past_due');
  const dunning = await until(`${OLD_CO.name}'s dunning Day 0`, async () => {
    const d = await call<DunningView>('GET', `/v1/accounts/${a.accountId}/dunning`, a.owner);
    return d.case?.steps.find((x) => x.id === 'day_0')?.status === 'done' ? d.case : undefined;
  });
  lines.push(
    `${OLD_CO.name}: account ${a.accountId}${a.replayed ? ' (already seeded)' : ''}; ${s.plan.id} ${s.interval} ${s.state}; dunning ${dunning.steps.map((x) => `${x.id} ${x.status}`).join(', ')}`,
  );
}

process.stdout.write(
  `${lines.join('\n')}\nowner tokens: npm run token -- --role owner --account <account id>\n`,
);
