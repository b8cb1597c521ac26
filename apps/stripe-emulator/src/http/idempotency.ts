import type { Account, IdempotencyRecord } from '../core/state.js';

/** Stripe keeps idempotency keys for at least 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export type IdempotencyDecision =
  | { kind: 'new' }
  | { kind: 'replay'; record: IdempotencyRecord }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

/** What makes two requests "the same": method, path and the raw encoded parameters. */
export function fingerprintOf(method: string, path: string, rawBody: string): string {
  return `${method} ${path}\n${rawBody}`;
}

/**
 * Looks the key up and, when it is new, reserves it (in flight) until `completeIdempotency` stores the
 * result or `releaseIdempotency` forgets it.
 */
export function beginIdempotency(
  account: Account,
  key: string,
  fingerprint: string,
  nowMs: number = Date.now(),
): IdempotencyDecision {
  const existing = account.idempotency.get(key);
  if (existing && nowMs - existing.createdAtMs < IDEMPOTENCY_TTL_MS) {
    if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (existing.inFlight) return { kind: 'in_flight' };
    return { kind: 'replay', record: existing };
  }
  if (account.idempotency.size > 0 && account.idempotency.size % 1024 === 0) sweep(account, nowMs);
  account.idempotency.set(key, {
    fingerprint,
    createdAtMs: nowMs,
    inFlight: true,
    status: 0,
    body: '',
    requestId: '',
  });
  return { kind: 'new' };
}

/** Stores the first result (success or error) for replay. */
export function completeIdempotency(
  account: Account,
  key: string,
  status: number,
  body: string,
  requestId: string,
): void {
  const record = account.idempotency.get(key);
  if (!record) return;
  record.inFlight = false;
  record.status = status;
  record.body = body;
  record.requestId = requestId;
}

/** Forgets a reserved key (the request was never executed, e.g. injected chaos). */
export function releaseIdempotency(account: Account, key: string): void {
  const record = account.idempotency.get(key);
  if (record?.inFlight) account.idempotency.delete(key);
}

function sweep(account: Account, nowMs: number): void {
  for (const [key, record] of account.idempotency) {
    if (nowMs - record.createdAtMs >= IDEMPOTENCY_TTL_MS) account.idempotency.delete(key);
  }
}
