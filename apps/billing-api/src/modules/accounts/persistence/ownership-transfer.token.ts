import { createHash, randomBytes } from 'node:crypto';

/** A new one-time token for an ownership transfer link: 32 random bytes, base64url. */
export function newTransferToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What is stored of a token: its SHA-256, hex. A token of another shape hashes to no stored row. */
export function hashTransferToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
