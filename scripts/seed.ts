/**
 * `npm run seed`: sample data of R-OPS-6, made through the running service's own HTTP API and Stripe (the
 * emulator, or a Stripe test account), as a customer's browser and an operator would: three accounts with
 * their owners; each saves a card (a SetupIntent from the API, confirmed at Stripe with a test card as
 * Stripe.js would, the card then mirrored from Stripe's webhook), pays a few times, and one payment is
 * partly refunded by finance. Every request carries a deterministic Idempotency-Key and a confirmed
 * SetupIntent is not confirmed again, so running the seed twice changes nothing.
 */
import { exitWithHelpIfAsked } from './lib/help.js';
import { seedKit } from './lib/seed-kit.js';

exitWithHelpIfAsked(`
Usage: npm run seed            (builds, then node dist/scripts/seed.js)

Makes sample accounts through the running service's API (npm start first): three accounts with their
owners, each with a card saved at Stripe (the emulator's test cards) and a few payments, one of them
partly refunded. Every request has a fixed Idempotency-Key: running it again changes nothing.
  SEED_API_URL   the service (default http://127.0.0.1:$PORT)
  JWT_SECRET     signs the seed's admin token (from the environment or .env; development default)
  -h, --help     this text
`);
const { sign, keyOf, call, saveCard } = await seedKit('seed');
const admin = await sign({ sub: 'seed', role: 'admin' });
const finance = await sign({ sub: 'seed-finance', role: 'finance' });

const accounts = [
  {
    name: 'Acme Corp',
    billingEmail: 'billing@acme.example',
    locale: 'en-US',
    timeZone: 'America/New_York',
    owner: { userId: 'acme-owner', email: 'owner@acme.example' },
  },
  {
    name: 'Startup Inc',
    billingEmail: 'founders@startup.example',
    locale: 'en-GB',
    timeZone: 'Europe/London',
    owner: { userId: 'startup-owner', email: 'ceo@startup.example' },
  },
  {
    name: 'Old Co',
    billingEmail: 'accounts@oldco.example',
    locale: 'de-DE',
    timeZone: 'Europe/Berlin',
    owner: { userId: 'oldco-owner', email: 'chef@oldco.example' },
  },
];

const plan: Record<
  string,
  { card: string; payments: Array<{ amount: number; currency: string; orderReference: string }> }
> = {
  'Acme Corp': {
    card: 'pm_card_visa',
    payments: [
      { amount: 4900, currency: 'usd', orderReference: 'ACME-1001' },
      { amount: 12900, currency: 'usd', orderReference: 'ACME-1002' },
    ],
  },
  'Startup Inc': {
    card: 'pm_card_mastercard',
    payments: [
      { amount: 1900, currency: 'gbp', orderReference: 'SU-1' },
      { amount: 2900, currency: 'gbp', orderReference: 'SU-2' },
    ],
  },
  'Old Co': {
    card: 'pm_card_amex',
    payments: [{ amount: 9900, currency: 'eur', orderReference: 'OC-77' }],
  },
};

for (const account of accounts) {
  const created = await call<{ id: string }>('POST', '/v1/admin/accounts', admin, account, keyOf(account));
  const accountId = created.id;
  const owner = await sign({ sub: account.owner.userId, role: 'owner', account_id: accountId });
  const { card, payments } = plan[account.name] ?? { card: 'pm_card_visa', payments: [] };

  const method = await saveCard(account.name, accountId, owner, card);

  const paid: Array<{ id: string; amount: number; currency: string }> = [];
  for (const p of payments) {
    const payment = await call<{ id: string; status: string; amount: number; currency: string }>(
      'POST',
      '/v1/payments',
      owner,
      { ...p, paymentMethodId: method.id, description: `Seed order ${p.orderReference}` },
      keyOf(accountId, p),
    );
    if (payment.status !== 'succeeded')
      throw new Error(`${account.name}: payment ${p.orderReference} is ${payment.status}`);
    paid.push(payment);
  }
  const first = paid[0];
  let refunded = '';
  if (first && account.name === 'Acme Corp') {
    const refund = await call<{ amount: number; status: string }>(
      'POST',
      `/v1/payments/${first.id}/refunds`,
      finance,
      { amount: 1000, reason: 'requested_by_customer' },
      keyOf(first.id, 'refund'),
    );
    refunded = `, ${refund.amount} refunded (${refund.status})`;
  }
  process.stdout.write(
    `${account.name}: account ${accountId}${created.replayed ? ' (already seeded)' : ''}; ` +
      `${method.brand} ****${method.last4}; ${paid.length} payment(s): ${paid.map((x) => `${x.amount} ${x.currency}`).join(', ')}${refunded}\n`,
  );
}
process.stdout.write(`owner tokens: npm run token -- --role owner --account <account id>\n`);
