import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { decoratedMethods } from '../../../platform/discovery/decorated-methods.js';
import {
  STRIPE_EVENT_HANDLER,
  STRIPE_EVENT_READ_AHEAD,
  STRIPE_EVENT_UNCHANGED_CHECK,
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
  /** The type's read-ahead (`@ReadsStripeEventsAhead`), when it has one. */
  readAhead?: StripeEventReadAheadFn;
}

export interface RegisteredCheck {
  name: string;
  fn: StripeEventUnchangedCheckFn;
}

export interface RegisteredReadAhead {
  name: string;
  fn: StripeEventReadAheadFn;
}

/**
 * Builds the type -> handler table, each handler with its type's unchanged-check and read-ahead;
 * returns the conflicts as messages: a type claimed by two handlers, two checks or two read-aheads,
 * and a check or read-ahead for a type no handler claims.
 */
export function buildDispatchTable(
  found: readonly { type: string; handler: RegisteredHandler }[],
  checks: readonly { type: string; check: RegisteredCheck }[] = [],
  aheads: readonly { type: string; ahead: RegisteredReadAhead }[] = [],
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
  const checkClaims = new Map<string, string[]>();
  for (const { type, check } of checks) {
    checkClaims.set(type, [...(checkClaims.get(type) ?? []), check.name]);
    const handler = table.get(type);
    if (!handler) {
      conflicts.push(`Stripe event "${type}" has an unchanged-check (${check.name}) but no handler`);
    } else if (!handler.unchanged) {
      table.set(type, { ...handler, unchanged: check.fn });
    }
  }
  for (const [type, names] of checkClaims) {
    if (names.length > 1) {
      conflicts.push(`Stripe event "${type}" has ${names.length} unchanged-checks: ${names.join(', ')}`);
    }
  }
  const aheadClaims = new Map<string, string[]>();
  for (const { type, ahead } of aheads) {
    aheadClaims.set(type, [...(aheadClaims.get(type) ?? []), ahead.name]);
    const handler = table.get(type);
    if (!handler) {
      conflicts.push(`Stripe event "${type}" has a read-ahead (${ahead.name}) but no handler`);
    } else if (!handler.readAhead) {
      table.set(type, { ...handler, readAhead: ahead.fn });
    }
  }
  for (const [type, names] of aheadClaims) {
    if (names.length > 1) {
      conflicts.push(`Stripe event "${type}" has ${names.length} read-aheads: ${names.join(', ')}`);
    }
  }
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
    const aheads: { type: string; ahead: RegisteredReadAhead }[] = [];
    for (const { name, fn, values } of find<StripeEventReadAheadFn>(STRIPE_EVENT_READ_AHEAD)) {
      for (const type of values) aheads.push({ type, ahead: { name, fn } });
    }
    const { table, conflicts } = buildDispatchTable(found, checks, aheads);
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
