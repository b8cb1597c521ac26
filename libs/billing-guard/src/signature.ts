import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Verifies `X-Billing-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the
 * integration endpoint's secret, exactly as the billing service signs its integration events (the Stripe
 * scheme: the timestamp is signed, and a signature older or newer than the tolerance is refused as a replay).
 * Verify the raw bytes you received, before any JSON parsing.
 */
export function verifyBillingSignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | undefined,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!header) return false;
  const parts = new Map<string, string[]>();
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const key = part.slice(0, at).trim();
    parts.set(key, [...(parts.get(key) ?? []), part.slice(at + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const expected = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest();
  // Any v1 may match (a secret being rolled signs twice).
  return (parts.get('v1') ?? []).some((v1) => {
    const given = Buffer.from(v1, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
