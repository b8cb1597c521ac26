import type { DunningEmailTemplate } from '@billing/domain';
import { declareDomainEvents, domainEvent } from '../../../platform/events/domain-event.js';

/**
 * What the dunning module announces (R-DUN). One dunning case per unpaid invoice; its steps come from
 * the dunning policy (libs/domain dunning.ts). Published in the transaction that recorded the change,
 * once per change (a duplicate `invoice.payment_failed` or a step run twice publishes nothing new).
 * Amounts in minor units; instants as ISO strings, on the timeline of the subscription's clock (a Stripe
 * test clock's time under a test clock).
 */

/** Which case, account, subscription and invoice an event is about. */
export interface DunningCaseRef {
  caseId: string;
  accountId: string;
  /** The app's subscription id; null when the invoice belongs to no mirrored subscription. */
  subscriptionId: string | null;
  stripeInvoiceId: string;
  /** What is owed on the invoice, and in which currency. */
  amountDue: number;
  currency: string;
  /** Stripe's hosted invoice page (the pay-now action), when Stripe gave one. */
  hostedInvoiceUrl: string | null;
}

/** A case opened: Day 0 is the failed attempt's time. */
export interface DunningCaseOpened extends DunningCaseRef {
  day0: string;
  /** When the policy's suspend step falls due. */
  suspendAt: string;
}

/** A step of the policy ran (exactly once per case and step). */
export interface DunningStepRan extends DunningCaseRef {
  stepId: string;
  dayOffset: number;
  /** The e-mail the step asks for; null when it sends none. */
  template: DunningEmailTemplate | null;
  /** Whether the step retried the payment, and the outcome when it did. */
  retried: boolean;
  retryOutcome: 'succeeded' | 'failed' | null;
  ranAt: string;
  /** When the next step falls due; null after the last one. */
  nextStepAt: string | null;
  suspendAt: string;
}

/** The policy's last step suspended the account (read-only access). */
export interface DunningAccountSuspended extends DunningCaseRef {
  suspendedAt: string;
}

/**
 * A case closed. `paid`: the invoice was paid (a retry, pay-outstanding, a new card, an automatic card
 * update); the account is back to active and `wasSuspended` says whether access had been cut.
 * `voided`/`uncollectible`/`subscription_canceled`: the debt was dropped or the subscription ended.
 */
export interface DunningCaseClosed extends DunningCaseRef {
  outcome: 'paid' | 'voided' | 'uncollectible' | 'subscription_canceled';
  wasSuspended: boolean;
  closedAt: string;
}

declare module '../../../platform/events/domain-event.js' {
  interface DomainEventPayloads {
    'dunning.case_opened': DunningCaseOpened;
    'dunning.step_ran': DunningStepRan;
    'dunning.account_suspended': DunningAccountSuspended;
    'dunning.case_closed': DunningCaseClosed;
  }
}

export const DUNNING_EVENTS = declareDomainEvents('dunning', [
  'dunning.case_opened',
  'dunning.step_ran',
  'dunning.account_suspended',
  'dunning.case_closed',
]);

export const dunningCaseOpened = (payload: DunningCaseOpened) => domainEvent('dunning.case_opened', payload);
export const dunningStepRan = (payload: DunningStepRan) => domainEvent('dunning.step_ran', payload);
export const dunningAccountSuspended = (payload: DunningAccountSuspended) =>
  domainEvent('dunning.account_suspended', payload);
export const dunningCaseClosed = (payload: DunningCaseClosed) => domainEvent('dunning.case_closed', payload);
