import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const POOL_SIZE = 8192;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

/** Random base62 string; bytes come from a pooled CSPRNG buffer so id creation stays cheap. */
export function randomString(length: number): string {
  if (offset + length > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) {
    // 248 = 62 * 4: reject the top bytes so every character is equally likely.
    let byte = pool[offset++] ?? 0;
    while (byte >= 248) {
      if (offset >= POOL_SIZE) {
        pool = randomBytes(POOL_SIZE);
        offset = 0;
      }
      byte = pool[offset++] ?? 0;
    }
    out += ALPHABET[byte % 62];
  }
  return out;
}

/**
 * Stripe-style id: `newId('cus')` or `newId('cus_')` -> `cus_Q2x...` (24 characters after the prefix;
 * Stripe ids vary in length, SDKs treat them as opaque strings).
 */
export function newId(prefix: string): string {
  const p = prefix.endsWith('_') ? prefix : `${prefix}_`;
  return p + randomString(24);
}

/** `pi_123_secret_abc`, the shape Stripe uses for PaymentIntent / SetupIntent client secrets. */
export function clientSecret(objectId: string): string {
  return `${objectId}_secret_${randomString(25)}`;
}

/** Checkout Session ids carry the test-mode marker: `cs_test_...`. */
export function checkoutSessionId(): string {
  return `cs_test_${randomString(58)}`;
}

/** Webhook signing secret: `whsec_...`. */
export function webhookSecret(): string {
  return `whsec_${randomString(32)}`;
}

/** Fingerprint for a card: stable for the same number in one process. */
export function fingerprintOf(value: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 16777619) >>> 0;
    h2 = Math.imul(h2 + c, 2246822519) >>> 0;
  }
  const chars = (h1.toString(36) + h2.toString(36) + 'x0000000000000000').slice(0, 16);
  return chars;
}
