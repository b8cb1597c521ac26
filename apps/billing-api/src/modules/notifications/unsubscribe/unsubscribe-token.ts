import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The token of a one-click unsubscribe link (R-NOT-3, RFC 8058): `<payload>.<signature>`, both
 * base64url. The payload is the account id's 16 bytes followed by the template name; the signature is
 * HMAC-SHA256 over a versioned label and the payload with NOTIFICATIONS_UNSUBSCRIBE_SECRET. It does not
 * expire: an unsubscribe link must keep working for as long as the mail sits in someone's inbox, and
 * it grants nothing but opting that account out of that one reminder.
 */
export interface UnsubscribeSubject {
  accountId: string;
  template: string;
}

const LABEL = 'billing.unsubscribe.v1:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TEMPLATE = /^[a-z][a-z0-9_]{0,63}$/;
const PART = /^[A-Za-z0-9_-]+$/;
const SIGNATURE_BYTES = 32;

function sign(secret: string, payload: Buffer): Buffer {
  return createHmac('sha256', secret).update(LABEL).update(payload).digest();
}

/** Signs (account, template); throws on an id that is not a UUID or a malformed template name. */
export function signUnsubscribeToken(secret: string, subject: UnsubscribeSubject): string {
  const accountId = subject.accountId.toLowerCase();
  if (!UUID.test(accountId)) throw new Error('unsubscribe token: the account id must be a UUID');
  if (!TEMPLATE.test(subject.template)) throw new Error('unsubscribe token: malformed template name');
  const payload = Buffer.concat([
    Buffer.from(accountId.replace(/-/g, ''), 'hex'),
    Buffer.from(subject.template, 'utf8'),
  ]);
  return `${payload.toString('base64url')}.${sign(secret, payload).toString('base64url')}`;
}

/** The signed (account, template), or null for anything forged, altered, truncated or malformed. */
export function verifyUnsubscribeToken(secret: string, token: unknown): UnsubscribeSubject | null {
  if (typeof token !== 'string' || token.length > 512) return null;
  const parts = token.split('.');
  if (parts.length !== 2) return null;
  const [encodedPayload, encodedSignature] = parts as [string, string];
  if (!PART.test(encodedPayload) || !PART.test(encodedSignature)) return null;
  const payload = Buffer.from(encodedPayload, 'base64url');
  const signature = Buffer.from(encodedSignature, 'base64url');
  // Re-encoding must give the same text: base64url has several spellings of the last character.
  if (payload.toString('base64url') !== encodedPayload) return null;
  if (signature.toString('base64url') !== encodedSignature) return null;
  if (signature.length !== SIGNATURE_BYTES) return null;
  if (!timingSafeEqual(signature, sign(secret, payload))) return null;
  if (payload.length <= 16) return null;
  const hex = payload.subarray(0, 16).toString('hex');
  const accountId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const template = payload.subarray(16).toString('utf8');
  if (!TEMPLATE.test(template)) return null;
  return { accountId, template };
}
