import type { PaymentStatus } from '@billing/domain';
import { declareDomainEvents, domainEvent } from '../../../platform/events/domain-event.js';

/**
 * A payment moved from one status to another (the payment machine's `payment.status_changed`), with
 * what listeners need of the payment after the change. Published in the transaction that made the
 * change, by whichever path made it (the API applying Stripe's answer, the janitor, a webhook), once.
 * Amounts in minor units; instants as ISO strings.
 */
export interface PaymentStatusChanged {
  paymentId: string;
  accountId: string;
  /**
   * The payment's version after the change: names the change itself, so that whichever path reports
   * it, listeners key their writes by it (a status the payment comes back to is a new change).
   */
  paymentVersion: number;
  /** Null: the payment was first seen in this status (mirrored from Stripe). */
  from: PaymentStatus | null;
  to: PaymentStatus;
  amount: number;
  amountReceived: number;
  amountRefunded: number;
  currency: string;
  description: string | null;
  orderReference: string | null;
  stripePaymentIntentId: string | null;
  failureCode: string | null;
  declineCode: string | null;
  cardBrand: string | null;
  cardLast4: string | null;
  /** When the payment succeeded; null when it has not (yet). */
  succeededAt: string | null;
  /** The charge's fee and net are on the row after the change (Stripe's answer carried them). */
  feeRecorded: boolean;
  occurredAt: string;
}

/** The card of a payment became known after its capture (the charge's event came after the PaymentIntent's). */
export interface PaymentMethodIdentified {
  paymentId: string;
  accountId: string;
  cardBrand: string | null;
  cardLast4: string | null;
}

/**
 * The card networks updated a saved card (Stripe's `payment_method.automatically_updated`: a reissued
 * card's new expiry or number). Dunning retries an unpaid invoice at once when it is the default card.
 */
export interface PaymentMethodAutomaticallyUpdated {
  accountId: string;
  stripePaymentMethodId: string;
  occurredAt: string;
}

declare module '../../../platform/events/domain-event.js' {
  interface DomainEventPayloads {
    'payment.status_changed': PaymentStatusChanged;
    'payment.method_identified': PaymentMethodIdentified;
    'payment.method_automatically_updated': PaymentMethodAutomaticallyUpdated;
  }
}

export const PAYMENT_EVENTS = declareDomainEvents('payments', [
  'payment.status_changed',
  'payment.method_identified',
  'payment.method_automatically_updated',
]);

/** The event of a status change (builds it typed; importing it declares the payments module's events). */
export const paymentStatusChanged = (payload: PaymentStatusChanged) =>
  domainEvent('payment.status_changed', payload);

export const paymentMethodIdentified = (payload: PaymentMethodIdentified) =>
  domainEvent('payment.method_identified', payload);

export const paymentMethodAutomaticallyUpdated = (payload: PaymentMethodAutomaticallyUpdated) =>
  domainEvent('payment.method_automatically_updated', payload);
