/**
 * What `npm run seed` and `npm run seed:demo` share: the service's address and an admin's signed tokens
 * from the environment (or .env), the Stripe client as the service reaches it (the emulator for its key),
 * API calls with Idempotency-Keys derived from what they do, polling with a deadline, and saving a card
 * the way a customer's browser does (SetupIntent from the API, confirmed at Stripe, mirrored by webhook).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { SignJWT } from 'jose';
import Stripe from 'stripe';
import { AppConfig } from '../../apps/billing-api/src/platform/config/app-config.js';
import { validateEnvironment } from '../../apps/billing-api/src/platform/config/environment.js';

interface ApiError {
  error?: { code: string; message: string };
}

export interface SavedCard {
  id: string;
  stripePaymentMethodId: string;
  brand: string;
  last4: string;
}

export type SeedKit = Awaited<ReturnType<typeof seedKit>>;

/** Reads the environment; `prefix` starts every Idempotency-Key (`seed`, `demo`). */
export async function seedKit(prefix: string) {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = validateEnvironment(process.env);
  const api = process.env.SEED_API_URL ?? `http://127.0.0.1:${env.PORT}`;
  if (!env.JWT_SECRET) throw new Error(`${prefix} signs an admin token with JWT_SECRET; it is not set`);
  const jwtSecret = env.JWT_SECRET;

  const sign = (claims: { sub: string; role: string; account_id?: string }): Promise<string> =>
    new SignJWT({ role: claims.role, ...(claims.account_id ? { account_id: claims.account_id } : {}) })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(jwtSecret));

  // Stripe as the service reaches it (the emulator for its key), for the browser's and Stripe's parts.
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
    `${prefix}-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)}`;

  async function call<T>(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    key?: string,
  ): Promise<T & { replayed: boolean }> {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
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

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline)
        throw new Error(`${prefix}: gave up waiting for ${what} (is the worker running?)`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Saves `card` (a test card's name) for the owner's account: the API makes the SetupIntent, the
   * customer's browser confirms it at Stripe (Stripe.js; here the card's name), Stripe's webhook tells the
   * service the card is attached. A confirmed SetupIntent is not confirmed again.
   */
  async function saveCard(label: string, accountId: string, owner: string, card: string): Promise<SavedCard> {
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
    if (intent.status !== 'succeeded') throw new Error(`${label}: the SetupIntent is ${intent.status}`);
    const stripeMethod =
      typeof intent.payment_method === 'string' ? intent.payment_method : intent.payment_method?.id;
    return until(`${label}'s saved card`, async () => {
      const list = await call<{ data: SavedCard[] }>('GET', '/v1/payment-methods', owner);
      return list.data.find((m) => m.stripePaymentMethodId === stripeMethod);
    });
  }

  return { env, api, stripeBase: base, sign, stripe, keyOf, call, until, saveCard };
}
