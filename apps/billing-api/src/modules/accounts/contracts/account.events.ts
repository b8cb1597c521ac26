import { declareDomainEvents, domainEvent } from '../../../platform/events/domain-event.js';

/**
 * The account's default payment method (its Stripe customer's `invoice_settings.default_payment_method`,
 * mirrored) changed: published in the transaction that mirrored the change, once per change.
 */
export interface AccountDefaultPaymentMethodChanged {
  accountId: string;
  /** Stripe ids (`pm_…`); null when there is none. */
  previousPaymentMethodId: string | null;
  paymentMethodId: string | null;
  occurredAt: string;
}

declare module '../../../platform/events/domain-event.js' {
  interface DomainEventPayloads {
    'account.default_payment_method_changed': AccountDefaultPaymentMethodChanged;
  }
}

export const ACCOUNT_EVENTS = declareDomainEvents('accounts', ['account.default_payment_method_changed']);

export const accountDefaultPaymentMethodChanged = (payload: AccountDefaultPaymentMethodChanged) =>
  domainEvent('account.default_payment_method_changed', payload);
