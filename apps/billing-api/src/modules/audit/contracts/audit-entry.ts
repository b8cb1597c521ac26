import type { Actor } from '../../../platform/context/request-context.js';

/** What a module tells the audit log about a billing-impacting change (R-CORE-7). */
export interface AuditEntryInput {
  accountId: string | null;
  /** Past tense, dotted: `account.created`, `subscription.canceled`. */
  action: string;
  entityType: string;
  entityId: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  reason?: string | null;
  /** Defaults to the actor of the current request or job. */
  actor?: Actor;
}

export interface AuditEntryView {
  id: string;
  occurredAt: string;
  accountId: string | null;
  actor: Actor;
  action: string;
  entityType: string;
  entityId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason: string | null;
  correlationId: string | null;
}
