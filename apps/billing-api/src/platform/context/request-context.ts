import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { containsCardNumber } from '../http/card-data.js';

/** Who is acting, as the audit log records it (R-CORE-7). */
export type ActorType = 'user' | 'system' | 'stripe_event' | 'reconciliation';
export interface Actor {
  type: ActorType;
  id: string | null;
}

export interface RequestContextData {
  correlationId: string;
  actor: Actor;
  /** Milliseconds this request or job spent waiting on Stripe (reported in `Server-Timing`). */
  stripeMs?: number;
}

const storage = new AsyncLocalStorage<RequestContextData>();

/**
 * The correlation id and actor of the current request or job (R-API-7), carried through async calls
 * so that logs, audit records, Bull jobs and Stripe metadata all name the same id.
 */
export const RequestContext = {
  run<T>(data: RequestContextData, fn: () => T): T {
    return storage.run(data, fn);
  },
  current(): RequestContextData | undefined {
    return storage.getStore();
  },
  correlationId(): string {
    return storage.getStore()?.correlationId ?? 'none';
  },
  actor(): Actor {
    return storage.getStore()?.actor ?? { type: 'system', id: null };
  },
  /** Adds the duration of one Stripe call to the current request's total. */
  addStripeTime(ms: number): void {
    const store = storage.getStore();
    if (store) store.stripeMs = (store.stripeMs ?? 0) + ms;
  },
  /** Marks the current context's actor once the request is authenticated. */
  setActor(actor: Actor): void {
    const store = storage.getStore();
    if (store) store.actor = actor;
  },
};

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Accepts a caller's `x-request-id` when it is well formed; otherwise makes a new one. A card-like id is
 * never taken (it would be in every log line of the request, which is then refused: request-screen.ts).
 */
export function correlationIdFrom(header: unknown): string {
  const value: unknown = Array.isArray(header) ? (header as unknown[])[0] : header;
  return typeof value === 'string' && CORRELATION_ID.test(value) && !containsCardNumber(value)
    ? value
    : randomUUID();
}
