// `npm run seed:demo` against the real service and the Stripe emulator: three accounts on their own test
// clocks, made through Checkout, the trial endpoint, members and a failing renewal; a second run changes
// nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { requireBuild } from '../support/built-service.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { runSeed, seedScript } from '../support/seed-script.js';

const SEED = seedScript('seed-demo');
const DAY = 86_400;
let w: StripeWorld;

beforeAll(async () => {
  requireBuild(SEED);
  w = await startStripeWorld({ env: { CATALOG_SYNC_ON_START: 'true' } });
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const seed = (): Promise<string> => runSeed(w, SEED, 180_000);

/** What the flows leave behind, counted (a second run must not add to any of it). */
async function counts() {
  const [row] = await w.t.db.query<Array<Record<string, string>>>(`
    SELECT (SELECT count(*) FROM accounts) AS accounts,
           (SELECT count(*) FROM account_members) AS members,
           (SELECT count(*) FROM subscriptions) AS subscriptions,
           (SELECT count(*) FROM invoices) AS invoices,
           (SELECT count(*) FROM payment_methods) AS methods,
           (SELECT count(*) FROM dunning_cases) AS cases,
           (SELECT count(*) FROM dunning_steps) AS steps,
           (SELECT count(*) FROM audit_log) AS audit,
           (SELECT count(*) FROM webhook_events) AS webhooks`);
  return row;
}

interface Row {
  id: string;
  customer: string;
  plan_id: string;
  interval: string;
  state: string;
  trial_end: Date | null;
  past_due_since: Date | null;
}

async function account(name: string): Promise<Row> {
  const rows = await w.t.db.query<Row[]>(
    `SELECT a.id, a.stripe_customer_id AS customer, s.plan_id, s.billing_interval AS interval, s.state, s.trial_end, s.past_due_since
       FROM accounts a JOIN subscriptions s ON s.account_id = a.id
      WHERE a.name = $1`,
    [name],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** The account's test clock's time now (Unix seconds): the seed gives every account its own clock. */
async function clockNow(customerId: string): Promise<number> {
  const customer = await w.stripe.customers.retrieve(customerId);
  if ('deleted' in customer || typeof customer.test_clock !== 'string') throw new Error('no test clock');
  return (await w.stripe.testHelpers.testClocks.retrieve(customer.test_clock)).frozen_time;
}

const secondsOf = (d: Date | string | null): number => Math.floor(new Date(d ?? 0).getTime() / 1000);

describe('npm run seed:demo', () => {
  it('makes Acme (active, 20/25 seats), Startup (trial, 3 days left) and Old Co (past_due, dunning Day 0) once', async () => {
    const out = await seed();
    expect(out).toMatch(/Acme Corp: account [0-9a-f-]{36}; business year active; seats 20\/25/);
    expect(out).toMatch(/Startup Inc: account [0-9a-f-]{36}; pro month trialing/);
    expect(out).toMatch(
      /Old Co: account [0-9a-f-]{36}; pro month past_due; dunning day_0 done, day_3 pending/,
    );

    const acme = await account('Acme Corp');
    expect(acme).toMatchObject({ plan_id: 'business', interval: 'year', state: 'active' });
    const [seats] = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM account_members WHERE account_id = $1`,
      [acme.id],
    );
    expect(seats?.n).toBe(20);

    const startup = await account('Startup Inc');
    expect(startup).toMatchObject({ plan_id: 'pro', interval: 'month', state: 'trialing' });
    const startupNow = await clockNow(startup.customer);
    expect(Math.abs(secondsOf(startup.trial_end) - startupNow - 3 * DAY)).toBeLessThan(DAY / 2);
    expect(await w.t.db.query(`SELECT id FROM payment_methods WHERE account_id = $1`, [startup.id])).toEqual(
      [],
    );
    // the seed waited for the app to apply the advance's events: Stripe's trial_will_end notice among them
    const notices = await w.t.db.query<{ status: string }[]>(
      `SELECT status FROM webhook_events WHERE type = 'customer.subscription.trial_will_end'
          AND payload->'data'->'object'->>'customer' = $1`,
      [startup.customer],
    );
    expect(notices.map((n) => n.status)).toEqual(['processed']);

    const old = await account('Old Co');
    expect(old).toMatchObject({ plan_id: 'pro', interval: 'month', state: 'past_due' });
    const oldNow = await clockNow(old.customer);
    // (past_due_since is stamped when the app applied the failure: wall-clock time, not the clock's)
    expect(old.past_due_since).not.toBeNull();
    const steps = await w.t.db.query<{ step_id: string; status: string; day0: Date }[]>(
      `SELECT s.step_id, s.status, c.day0
         FROM dunning_steps s JOIN dunning_cases c ON c.id = s.case_id
        WHERE c.account_id = $1 ORDER BY s.position`,
      [old.id],
    );
    expect(steps.slice(0, 2).map((s) => `${s.step_id}:${s.status}`)).toEqual(['day_0:done', 'day_3:pending']);
    expect(Math.abs(secondsOf(steps[0]!.day0) - (oldNow - 2 * DAY))).toBeLessThan(DAY / 4);
    // the failed renewal's invoice is mirrored, and the flows were audited
    const [open] = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM invoices WHERE account_id = $1 AND status = 'open'`,
      [old.id],
    );
    expect(open?.n).toBe(1);
    const audited = await w.t.db.query<{ action: string }[]>(
      `SELECT DISTINCT action FROM audit_log WHERE account_id = ANY($1)`,
      [[acme.id, startup.id, old.id]],
    );
    expect(audited.map((r) => r.action)).toEqual(expect.arrayContaining(['subscription.state_changed']));

    const before = await counts();
    const again = await seed();
    expect(again).toContain('(already seeded)');
    expect(again).toMatch(/Old Co: .*past_due; dunning day_0 done, day_3 pending/);
    expect(await counts()).toEqual(before);
    expect(await clockNow(old.customer)).toBe(oldNow);
    expect(await clockNow(startup.customer)).toBe(startupNow);
  }, 400_000);
});
