/**
 * `npm run seed`: the sample accounts of R-OPS-6, created through the running service's own HTTP API
 * (the real flows, audited like any other change). Every request carries a deterministic
 * Idempotency-Key, so running the seed twice changes nothing.
 *
 * Covered now: the accounts "Acme Corp", "Startup Inc" and "Old Co" with their owners and settings.
 * Their subscriptions, invoices and dunning states come with the subscriptions issue, through checkout
 * against the emulator.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { SignJWT } from 'jose';
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

const token = await new SignJWT({ role: 'admin' })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('seed')
  .setIssuedAt()
  .setExpirationTime('10m')
  .sign(new TextEncoder().encode(env.JWT_SECRET));

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

for (const account of accounts) {
  const key = `seed-${createHash('sha256').update(JSON.stringify(account)).digest('hex').slice(0, 32)}`;
  const response = await fetch(`${api}/v1/admin/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(account),
  });
  const body = (await response.json()) as { id?: string; error?: { code: string; message: string } };
  if (!response.ok)
    throw new Error(
      `${account.name}: ${response.status} ${body.error?.code ?? ''} ${body.error?.message ?? ''}`,
    );
  const replayed = response.headers.get('idempotent-replayed') === 'true';
  process.stdout.write(`${account.name}: ${body.id ?? '?'}${replayed ? ' (already seeded)' : ''}\n`);
}
