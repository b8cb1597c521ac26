/**
 * `npm run seed`: sample data of R-OPS-6, made through the running service's own HTTP API and Stripe (the
 * emulator, or a Stripe test account), as a customer's browser and an operator would: three accounts with
 * their owners; each saves a card (a SetupIntent from the API, confirmed at Stripe with a test card as
 * Stripe.js would, the card then mirrored from Stripe's webhook), pays a few times, and one payment is
 * partly refunded by finance. Every request carries a deterministic Idempotency-Key and a confirmed
 * SetupIntent is not confirmed again, so running the seed twice changes nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { SignJWT } from 'jose';
import Stripe from 'stripe';
import { AppConfig } from '../apps/billing-api/src/platform/config/app-config.js';
import { validateEnvironment } from '../apps/billing-api/src/platform/config/environment.js';
import { exitWithHelpIfAsked } from './lib/help.js';

exitWithHelpIfAsked(`
Usage: npm run seed            (builds, then node dist/scripts/seed.js)

Makes sample accounts through the running service's API (npm start first): three accounts with their
owners, each with a card saved at Stripe (the emulator's test cards) and a few payments, one of them
partly refunded. Every request has a fixed Idempotency-Key: running it again changes nothing.
  SEED_API_URL   the service (default http://127.0.0.1:$PORT)
  JWT_SECRET     signs the seed's admin token (from the environment or .env; development default)
  -h, --help     this text
`);
if (existsSync('.env')) process.loadEnvFile('.env');
const env = validateEnvironment(process.env);
const api = process.env.SEED_API_URL ?? `http://127.0.0.1:${env.PORT}`;
if (!env.JWT_SECRET) throw new Error('seed signs an admin token with JWT_SECRET; it is not set');
const jwtSecret = env.JWT_SECRET;

const sign = (claims: { sub: string; role: string; account_id?: string }): Promise<string> =>
  new SignJWT({ role: claims.role, ...(claims.account_id ? { account_id: claims.account_id } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(jwtSecret));
const admin = await sign({ sub: 'seed', role: 'admin' });
const finance = await sign({ sub: 'seed-finance', role: 'finance' });

// Stripe as the service reaches it (the emulator for its key), for the browser's part of saving a card.
const config = new AppConfig(env);
const base = config.stripe.apiBase;
const stripe = new Stripe(config.stripe.secretKey, {
  ...(base
    ? {
        host: base.hostname,
        port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
        protocol: base.protocol.replace(':', '') as 'http' | 'https',
      }
    : {}),
});

const keyOf = (...parts: unknown[]): string =>
  `seed-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)}`;

interface ApiError {
  error?: { code: string; message: string };
}

async function call<T>(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  key?: string,
): Promise<T & { replayed: boolean }> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(key ? { 'idempotency-key': key } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as T & ApiError;
  if (!response.ok)
    throw new Error(
      `${method} ${path}: ${response.status} ${json.error?.code ?? ''} ${json.error?.message ?? ''}`,
    );
  return { ...json, replayed: response.headers.get('idempotent-replayed') === 'true' };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`seed: gave up waiting for ${what} (is the worker running?)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

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

  // Saving a card: the API makes the SetupIntent, the customer's browser confirms it at Stripe with the
  // card (Stripe.js; here the test card's name), Stripe's webhook tells the service the card is attached.
  const setup = await call<{ id: string }>(
    'POST',
    '/v1/payment-methods/setup-intents',
    owner,
    undefined,
    keyOf(accountId, 'setup'),
  );
  let intent = await stripe.setupIntents.retrieve(setup.id);
  if (intent.status === 'requires_payment_method' || intent.status === 'requires_confirmation')
    intent = await stripe.setupIntents.confirm(setup.id, { payment_method: card });
  if (intent.status !== 'succeeded') throw new Error(`${account.name}: the SetupIntent is ${intent.status}`);
  const stripeMethod =
    typeof intent.payment_method === 'string' ? intent.payment_method : intent.payment_method?.id;
  const method = await until(`${account.name}'s saved card`, async () => {
    const list = await call<{
      data: Array<{ id: string; stripePaymentMethodId: string; brand: string; last4: string }>;
    }>('GET', '/v1/payment-methods', owner);
    return list.data.find((m) => m.stripePaymentMethodId === stripeMethod);
  });

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
