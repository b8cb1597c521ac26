import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { STRIPE_EVENT_HANDLER, type StripeEventHandlerFn } from '../contracts/stripe-event-handler.js';

export interface RegisteredHandler {
  /** `ProviderClass.method`, for errors and logs. */
  name: string;
  fn: StripeEventHandlerFn;
}

/** Builds the type -> handler table; returns the conflicts (a type claimed twice) as messages. */
export function buildDispatchTable(found: readonly { type: string; handler: RegisteredHandler }[]): {
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
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.isDependencyTreeStatic()) continue;
      const instance = wrapper.instance as Record<string, unknown> | null | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = (prototype as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const types = this.reflector.get<string[] | undefined>(STRIPE_EVENT_HANDLER, fn as () => unknown);
        if (!types) continue;
        const className = (instance.constructor as { name?: string }).name ?? 'provider';
        const handler: RegisteredHandler = {
          name: `${className}.${method}`,
          fn: (fn as StripeEventHandlerFn).bind(instance),
        };
        for (const type of new Set(types)) found.push({ type, handler });
      }
    }
    const { table, conflicts } = buildDispatchTable(found);
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
