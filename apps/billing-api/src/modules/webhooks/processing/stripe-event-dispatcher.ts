import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { decoratedMethods } from '../../../platform/discovery/decorated-methods.js';
import {
  STRIPE_EVENT_BATCH_LOCK,
  STRIPE_EVENT_HANDLER,
  STRIPE_EVENT_READ_AHEAD,
  STRIPE_EVENT_UNCHANGED_CHECK,
  type StripeEventBatchLockFn,
  type StripeEventHandlerFn,
  type StripeEventReadAheadFn,
  type StripeEventUnchangedCheckFn,
} from '../contracts/stripe-event-handler.js';

export interface RegisteredHandler {
  /** `ProviderClass.method`, for errors and logs. */
  name: string;
  fn: StripeEventHandlerFn;
  /** The type's unchanged-check (`@ChecksStripeEventsUnchanged`), when it has one. */
  unchanged?: StripeEventUnchangedCheckFn;
  /** The type's batch lock (`@LocksStripeEventBatches`), when it has one. */
  batchLock?: StripeEventBatchLockFn;
  /** The type's read-ahead (`@ReadsStripeEventsAhead`), when it has one. */
  readAhead?: StripeEventReadAheadFn;
}

export interface RegisteredCheck {
  name: string;
  fn: StripeEventUnchangedCheckFn;
}

export interface RegisteredBatchLock {
  name: string;
  fn: StripeEventBatchLockFn;
}

export interface RegisteredReadAhead {
  name: string;
  fn: StripeEventReadAheadFn;
}

/** The optional companions of a handler, by the field of RegisteredHandler they fill. */
interface Companions {
  unchanged: readonly { type: string; check: RegisteredCheck }[];
  batchLock: readonly { type: string; lock: RegisteredBatchLock }[];
  readAhead: readonly { type: string; ahead: RegisteredReadAhead }[];
}

/** Each companion kind's name in the conflict messages (singular, plural). */
const KIND_NAMES: Record<keyof Companions, [string, string]> = {
  unchanged: ['an unchanged-check', 'unchanged-checks'],
  batchLock: ['a batch lock', 'batch locks'],
  readAhead: ['a read-ahead', 'read-aheads'],
};

/**
 * Builds the type -> handler table, each handler with its type's unchanged-check, batch lock and
 * read-ahead; returns the conflicts as messages: a type claimed by two handlers, or by two companions of
 * one kind, and a companion for a type no handler claims.
 */
export function buildDispatchTable(
  found: readonly { type: string; handler: RegisteredHandler }[],
  checks: Companions['unchanged'] = [],
  extra: { locks?: Companions['batchLock']; aheads?: Companions['readAhead'] } = {},
): {
  table: Map<string, RegisteredHandler>;
  conflicts: string[];
} {
  const table = new Map<string, RegisteredHandler>();
  const claims = new Map<string, string[]>();
  for (const { type, handler } of found) {
    claims.set(type, [...(claims.get(type) ?? []), handler.name]);
    if (!table.has(type)) table.set(type, handler);
  }
  const conflicts = [...claims.entries()]
    .filter(([, names]) => names.length > 1)
    .map(([type, names]) => `Stripe event "${type}" has ${names.length} handlers: ${names.join(', ')}`);
  const attach = (
    kind: keyof Companions,
    entries: readonly { type: string; name: string; fn: RegisteredHandler[keyof Companions] }[],
  ) => {
    const [one, many] = KIND_NAMES[kind];
    const kindClaims = new Map<string, string[]>();
    for (const { type, name, fn } of entries) {
      kindClaims.set(type, [...(kindClaims.get(type) ?? []), name]);
      const handler = table.get(type);
      if (!handler) conflicts.push(`Stripe event "${type}" has ${one} (${name}) but no handler`);
      else if (!handler[kind]) table.set(type, { ...handler, [kind]: fn });
    }
    for (const [type, names] of kindClaims) {
      if (names.length > 1) {
        conflicts.push(`Stripe event "${type}" has ${names.length} ${many}: ${names.join(', ')}`);
      }
    }
  };
  attach(
    'unchanged',
    checks.map(({ type, check }) => ({ type, ...check })),
  );
  attach(
    'batchLock',
    (extra.locks ?? []).map(({ type, lock }) => ({ type, ...lock })),
  );
  attach(
    'readAhead',
    (extra.aheads ?? []).map(({ type, ahead }) => ({ type, ...ahead })),
  );
  return { table, conflicts };
}

/**
 * The dispatch table from Stripe event type to the one handler that owns it (R-WH-3), discovered at
 * start-up from `@HandlesStripeEvents` methods of every provider. Two handlers for one type stop the
 * start-up, naming both.
 */
@Injectable()
export class StripeEventDispatcher implements OnApplicationBootstrap {
  private readonly logger = new Logger('StripeEventDispatcher');
  private table = new Map<string, RegisteredHandler>();
  private discovered = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    this.discover();
  }

  discover(): void {
    const found: { type: string; handler: RegisteredHandler }[] = [];
    const checks: { type: string; check: RegisteredCheck }[] = [];
    const find = <F>(key: string) => decoratedMethods<F>(this.discovery, this.scanner, this.reflector, key);
    for (const { name, fn, values } of find<StripeEventHandlerFn>(STRIPE_EVENT_HANDLER)) {
      for (const type of values) found.push({ type, handler: { name, fn } });
    }
    for (const { name, fn, values } of find<StripeEventUnchangedCheckFn>(STRIPE_EVENT_UNCHANGED_CHECK)) {
      for (const type of values) checks.push({ type, check: { name, fn } });
    }
    const locks: { type: string; lock: RegisteredBatchLock }[] = [];
    for (const { name, fn, values } of find<StripeEventBatchLockFn>(STRIPE_EVENT_BATCH_LOCK)) {
      for (const type of values) locks.push({ type, lock: { name, fn } });
    }
    const aheads: { type: string; ahead: RegisteredReadAhead }[] = [];
    for (const { name, fn, values } of find<StripeEventReadAheadFn>(STRIPE_EVENT_READ_AHEAD)) {
      for (const type of values) aheads.push({ type, ahead: { name, fn } });
    }
    const { table, conflicts } = buildDispatchTable(found, checks, { locks, aheads });
    if (conflicts.length > 0) {
      throw new Error(`Stripe event handlers are inconsistent: ${conflicts.join('; ')}`);
    }
    this.table = table;
    this.discovered = true;
    this.logger.log(`${table.size} Stripe event types have a handler`);
  }

  handlerFor(type: string): RegisteredHandler | undefined {
    if (!this.discovered) this.discover();
    return this.table.get(type);
  }

  handledTypes(): string[] {
    if (!this.discovered) this.discover();
    return [...this.table.keys()].sort();
  }
}
