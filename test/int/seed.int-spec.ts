// `npm run seed` against the real service and the Stripe emulator: accounts with a card saved through the
// SetupIntent flow, payments and a refund, all through the API; a second run changes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { requireBuild } from '../support/built-service.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { runSeed, seedScript } from '../support/seed-script.js';

const SEED = seedScript('seed');
let w: StripeWorld;

beforeAll(async () => {
  requireBuild(SEED);
  w = await startStripeWorld();
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const seed = (): Promise<string> => runSeed(w, SEED);

async function counts() {
  const [row] = await w.t.db.query<Array<Record<string, string>>>(`
    SELECT (SELECT count(*) FROM accounts WHERE name IN ('Acme Corp', 'Startup Inc', 'Old Co')) AS accounts,
           (SELECT count(*) FROM payment_methods WHERE status = 'attached') AS methods,
           (SELECT count(*) FROM payments WHERE status IN ('succeeded', 'partially_refunded')) AS payments,
           (SELECT count(*) FROM refunds) AS refunds`);
  return row;
}

describe('npm run seed', () => {
  it('makes accounts with saved cards, payments and a refund through the API, once', async () => {
    const out = await seed();
    expect(out).toMatch(
      /Acme Corp: account [0-9a-f-]{36}; visa \*\*\*\*4242; 2 payment\(s\): 4900 usd, 12900 usd, 1000 refunded/,
    );
    expect(out).toMatch(/Startup Inc: .*mastercard \*\*\*\*4444; 2 payment\(s\)/);
    expect(out).toMatch(/Old Co: .*amex \*\*\*\*0005; 1 payment\(s\): 9900 eur/);
    expect(await counts()).toEqual({ accounts: '3', methods: '3', payments: '5', refunds: '1' });
    // the cards are Stripe's: attached to each account's customer there
    const [acme] = await w.t.db.query<Array<{ stripe_customer_id: string }>>(
      `SELECT stripe_customer_id FROM accounts WHERE name = 'Acme Corp'`,
    );
    const cards = await w.stripe.paymentMethods.list({ customer: acme?.stripe_customer_id ?? '' });
    expect(cards.data.map((c) => c.card?.last4)).toEqual(['4242']);

    const again = await seed();
    expect(again).toContain('Acme Corp: account');
    expect(again).toContain('(already seeded)');
    expect(await counts()).toEqual({ accounts: '3', methods: '3', payments: '5', refunds: '1' });
  }, 180_000);
});
