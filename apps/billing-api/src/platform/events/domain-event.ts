import { SetMetadata } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StatementPart } from '../database/row-sql.js';

/**
 * Domain events between modules (STYLE.md "Async work"; docs/architecture.md has the catalogue).
 *
 * A module announces what changed by publishing the events its transition returned; the modules that
 * care listen. The publisher imports none of its listeners. Listeners run inside the publishing
 * transaction, with its EntityManager, so what they write (a receipt, an integration event, an outbox
 * row) commits with the change or not at all. Work that leaves the process (e-mail, outbound webhooks)
 * goes on through the listening module's outbox.
 *
 * Each event type has one payload type, declared by the publishing module in its `contracts/`:
 *
 * ```ts
 * declare module '../../../platform/events/domain-event.js' {
 *   interface DomainEventPayloads { 'payment.status_changed': PaymentStatusChanged }
 * }
 * export const PAYMENT_EVENTS = declareDomainEvents('payments', ['payment.status_changed']);
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface DomainEventPayloads {}

export type DomainEventType = Extract<keyof DomainEventPayloads, string>;

/** A published event: its type and the payload its publisher declared for that type. */
export type DomainEvent<T extends DomainEventType = DomainEventType> = {
  [K in T]: { readonly type: K; readonly payload: DomainEventPayloads[K] };
}[T];

/** Builds an event, typed by its type. */
export function domainEvent<T extends DomainEventType>(
  type: T,
  payload: DomainEventPayloads[T],
): DomainEvent<T> {
  return { type, payload };
}

/** Which module declared each event type: the start-up check and the catalogue read it. */
const declared = new Map<string, string>();

/**
 * Declares the event types a module publishes (call it once, in the module's `contracts/`). A type
 * declared by two modules is a programming error and throws at import.
 */
export function declareDomainEvents<const T extends DomainEventType>(
  module: string,
  types: readonly T[],
): readonly T[] {
  for (const type of types) {
    const owner = declared.get(type);
    if (owner !== undefined && owner !== module) {
      throw new Error(`domain event "${type}" is declared by both ${owner} and ${module}`);
    }
    declared.set(type, module);
  }
  return types;
}

/** The declaring module of every declared event type. */
export function declaredDomainEvents(): ReadonlyMap<string, string> {
  return declared;
}

export const DOMAIN_EVENT_LISTENER = 'billing:domain-event-listener';
export const DOMAIN_EVENT_STATEMENT_LISTENER = 'billing:domain-event-statement-listener';

/**
 * A listener: called with each published event of its type and the publishing transaction's manager.
 * Every write goes through that manager; nothing outside the database happens here (use an outbox and
 * `AfterCommit` for that).
 */
export type DomainEventListenerFn<T extends DomainEventType = DomainEventType> = (
  event: DomainEvent<T>,
  manager: EntityManager,
) => Promise<void> | void;

/**
 * A listener on a measured hot path: returns its writes as parts of the publisher's own statement
 * (platform/database/row-sql.ts), so that the change and what follows it are one round trip. With
 * `onlyWith`, each part must write only when that CTE of the publisher returned a row (the change
 * happened). Use it only where a benchmark shows the round trip matters, and name the benchmark.
 */
export type DomainEventStatementListenerFn<T extends DomainEventType = DomainEventType> = (
  event: DomainEvent<T>,
  onlyWith: string | undefined,
) => StatementPart[];

/** Declares the method a listener of these event types (`(event, manager) => Promise<void>`). */
export const OnDomainEvent = (...types: DomainEventType[]): MethodDecorator =>
  SetMetadata(DOMAIN_EVENT_LISTENER, types);

/** Declares the method a statement listener of these event types (see {@link DomainEventStatementListenerFn}). */
export const OnDomainEventInStatement = (...types: DomainEventType[]): MethodDecorator =>
  SetMetadata(DOMAIN_EVENT_STATEMENT_LISTENER, types);
