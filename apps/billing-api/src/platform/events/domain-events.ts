import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import { runStatement, type StatementPart } from '../database/row-sql.js';
import { decoratedMethods } from '../discovery/decorated-methods.js';
import {
  declaredDomainEvents,
  DOMAIN_EVENT_LISTENER,
  DOMAIN_EVENT_STATEMENT_LISTENER,
  type DomainEvent,
  type DomainEventListenerFn,
  type DomainEventStatementListenerFn,
} from './domain-event.js';

interface Registered<F> {
  /** `ProviderClass.method`, for errors, logs and the catalogue. */
  name: string;
  fn: F;
}

/** Who listens to one event type, in a stable order (by name). */
export interface EventListeners {
  plain: Registered<DomainEventListenerFn>[];
  statement: Registered<DomainEventStatementListenerFn>[];
}

/** One line of the event catalogue: who publishes a type and who listens to it. */
export interface EventCatalogueLine {
  type: string;
  publisher: string;
  listeners: string[];
  statementListeners: string[];
}

/**
 * Returns the conflicts of a set of listeners as messages: a listener of a type that no module
 * declares (a typo, or a publisher that was removed) would never be called.
 */
export function undeclaredListeners(
  found: readonly { type: string; name: string }[],
  declared: ReadonlyMap<string, string>,
): string[] {
  return found
    .filter(({ type }) => !declared.has(type))
    .map(({ type, name }) => `${name} listens to "${type}", which no module declares`);
}

/**
 * The domain-event bus (see domain-event.ts). Listeners are discovered at start-up from the
 * `@OnDomainEvent` / `@OnDomainEventInStatement` methods of every provider, like the Stripe event
 * handlers; a listener of an undeclared type stops the start-up, naming it.
 */
@Injectable()
export class DomainEvents implements OnApplicationBootstrap {
  private readonly logger = new Logger('DomainEvents');
  private table = new Map<string, EventListeners>();
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
    const table = new Map<string, EventListeners>();
    const found: { type: string; name: string }[] = [];
    const entry = (type: string): EventListeners => {
      let listeners = table.get(type);
      if (!listeners) table.set(type, (listeners = { plain: [], statement: [] }));
      return listeners;
    };
    const find = <F>(key: string) => decoratedMethods<F>(this.discovery, this.scanner, this.reflector, key);
    for (const { name, fn, values } of find<DomainEventListenerFn>(DOMAIN_EVENT_LISTENER)) {
      for (const type of values) {
        found.push({ type, name });
        entry(type).plain.push({ name, fn });
      }
    }
    for (const { name, fn, values } of find<DomainEventStatementListenerFn>(
      DOMAIN_EVENT_STATEMENT_LISTENER,
    )) {
      for (const type of values) {
        found.push({ type, name });
        entry(type).statement.push({ name, fn });
      }
    }
    const conflicts = undeclaredListeners(found, declaredDomainEvents());
    if (conflicts.length > 0)
      throw new Error(`Domain event listeners are inconsistent: ${conflicts.join('; ')}`);
    for (const listeners of table.values()) {
      listeners.plain.sort((a, b) => a.name.localeCompare(b.name));
      listeners.statement.sort((a, b) => a.name.localeCompare(b.name));
    }
    this.table = table;
    this.discovered = true;
    this.logger.log(`${found.length} domain event listeners on ${table.size} event types`);
  }

  private listenersOf(type: string): EventListeners {
    if (!this.discovered) this.discover();
    return this.table.get(type) ?? { plain: [], statement: [] };
  }

  /**
   * Publishes events in the caller's transaction: the statement listeners' writes as one statement,
   * then each plain listener in turn. Call it inside the transaction that made the change.
   */
  async publish(manager: EntityManager, events: readonly DomainEvent[]): Promise<void> {
    const run = async (tx: EntityManager): Promise<void> => {
      const parts = this.statementParts(events, undefined);
      if (parts.length > 0) await runStatement(tx, parts);
      await this.runListeners(tx, events);
    };
    // Outside a transaction, what the listeners write still commits all together or not at all.
    const listens = events.some((e) => {
      const l = this.listenersOf(e.type);
      return l.plain.length > 0 || l.statement.length > 0;
    });
    if (listens && !manager.queryRunner?.isTransactionActive) return manager.transaction(run);
    return run(manager);
  }

  /**
   * The publisher's own statement (`own`, whose CTE `onlyWith` returns a row when the change happened)
   * run with the statement listeners' writes in ONE round trip, then, when `happened(result)`, the plain
   * listeners. Outside a transaction, with plain listeners to call, both run in a new transaction, so
   * that what the listeners write commits with the change. Returns the statement's row.
   */
  async publishWithStatement(
    manager: EntityManager,
    events: readonly DomainEvent[],
    own: readonly StatementPart[],
    onlyWith: string,
    happened: (result: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>> {
    const run = async (tx: EntityManager): Promise<Record<string, unknown>> => {
      const result = await runStatement(tx, [...own, ...this.statementParts(events, onlyWith)]);
      if (happened(result)) await this.runListeners(tx, events);
      return result;
    };
    const hasPlain = events.some((e) => this.listenersOf(e.type).plain.length > 0);
    if (hasPlain && !manager.queryRunner?.isTransactionActive) return manager.transaction(run);
    return run(manager);
  }

  /** The statement listeners' parts for these events, in publishing order. */
  statementParts(events: readonly DomainEvent[], onlyWith: string | undefined): StatementPart[] {
    return events.flatMap((event) =>
      this.listenersOf(event.type).statement.flatMap((l) => l.fn(event, onlyWith)),
    );
  }

  private async runListeners(manager: EntityManager, events: readonly DomainEvent[]): Promise<void> {
    for (const event of events) {
      for (const listener of this.listenersOf(event.type).plain) await listener.fn(event, manager);
    }
  }

  /** Every declared event type with its publisher and listeners (docs/architecture.md is checked against it). */
  catalogue(): EventCatalogueLine[] {
    if (!this.discovered) this.discover();
    return [...declaredDomainEvents()]
      .map(([type, publisher]) => {
        const l = this.table.get(type) ?? { plain: [], statement: [] };
        return {
          type,
          publisher,
          listeners: l.plain.map((x) => x.name),
          statementListeners: l.statement.map((x) => x.name),
        };
      })
      .sort((a, b) => a.type.localeCompare(b.type));
  }
}
