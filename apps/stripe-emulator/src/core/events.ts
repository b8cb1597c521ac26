import { AsyncLocalStorage } from 'node:async_hooks';
import type Stripe from 'stripe';
import { newId } from './ids.js';
import type { Account } from './state.js';
import { clockOfCustomer, nowForClock } from './time.js';

export const API_VERSION = '2026-10-28.endive';

/** The API request an event was caused by (`event.request`); null for automatic events (clocks). */
export interface RequestContext {
  id: string;
  idempotencyKey: string | null;
}

const requestContext = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with the current API request recorded, so events it emits carry `request.id`. */
export function runInRequest<T>(context: RequestContext, fn: () => T): T {
  return requestContext.run(context, fn);
}

/** Runs `fn` as "no request" (e.g. a test clock advancing in the background). */
export function runOutsideRequest<T>(fn: () => T): T {
  return requestContext.exit(fn);
}

export function currentRequest(): RequestContext | undefined {
  return requestContext.getStore();
}

export interface EmitEventInput {
  type: string;
  /** The object as it is now; it is snapshotted (deep-copied) into `data.object`. */
  object: object;
  /** For `*.updated`: the previous values of the changed fields. */
  previousAttributes?: Record<string, unknown>;
  /** The customer whose test clock gives `created`; inferred from `object.customer` when omitted. */
  customerId?: string | null;
  /** A test clock whose time gives `created` (overrides the customer). */
  testClockId?: string | null;
}

function inferCustomer(object: Record<string, unknown>): string | null {
  if (object.object === 'customer' && typeof object.id === 'string') return object.id;
  const customer = object.customer;
  if (typeof customer === 'string') return customer;
  if (customer && typeof customer === 'object' && typeof (customer as { id?: unknown }).id === 'string') {
    return (customer as { id: string }).id;
  }
  return null;
}

function inferClock(
  account: Account,
  object: Record<string, unknown>,
  customerId: string | null,
): string | null {
  if (object.object === 'test_helpers.test_clock' && typeof object.id === 'string') return object.id;
  if (typeof object.test_clock === 'string') return object.test_clock;
  return clockOfCustomer(account, customerId);
}

/**
 * Creates an `evt_` object (clock-time `created`), stores it for the events endpoints and hands it to
 * webhook delivery.
 */
export function emitEvent(account: Account, input: EmitEventInput): Stripe.Event {
  const object = input.object as Record<string, unknown>;
  const customerId = input.customerId !== undefined ? input.customerId : inferCustomer(object);
  const clockId = input.testClockId ?? inferClock(account, object, customerId);
  const request = currentRequest();
  const data: { object: unknown; previous_attributes?: unknown } = {
    object: JSON.parse(JSON.stringify(object)) as unknown,
  };
  if (input.previousAttributes) {
    data.previous_attributes = JSON.parse(JSON.stringify(input.previousAttributes)) as unknown;
  }
  const event = {
    id: newId('evt'),
    object: 'event',
    api_version: API_VERSION,
    context: undefined,
    created: nowForClock(account, clockId),
    data,
    livemode: false,
    pending_webhooks: 0,
    request: { id: request?.id ?? null, idempotency_key: request?.idempotencyKey ?? null },
    type: input.type,
  } as unknown as Stripe.Event;
  delete (event as { context?: unknown }).context;
  account.events.set(event.id, event);
  for (const listener of account.listeners) listener(account, event);
  return event;
}

/** `previous_attributes` for an update: the old values of the keys whose JSON changed. */
export function diffAttributes(before: object, after: object): Record<string, unknown> | undefined {
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  let changed = false;
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) {
      out[key] = b[key] === undefined ? null : b[key];
      changed = true;
    }
  }
  return changed ? out : undefined;
}
