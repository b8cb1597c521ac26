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
  /** Stripe calls of this request under way now, and since when at least one has been. */
  stripeInFlight?: number;
  stripeSince?: number;
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
  /**
   * Marks a Stripe call as started; the returned function marks it ended. The request's `stripeMs` is
   * the wall time during which at least one call was waiting, so calls made in parallel count once.
   */
  startStripeCall(now: () => number = () => performance.now()): () => void {
    const store = storage.getStore();
    if (!store) return () => undefined;
    if ((store.stripeInFlight ?? 0) === 0) store.stripeSince = now();
    store.stripeInFlight = (store.stripeInFlight ?? 0) + 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      store.stripeInFlight = (store.stripeInFlight ?? 1) - 1;
      if (store.stripeInFlight === 0) {
        store.stripeMs = (store.stripeMs ?? 0) + (now() - (store.stripeSince ?? now()));
      }
    };
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
