import { declareDomainEvents, domainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';

/**
 * What the accounts module announces: its default payment method, members and billing ownership
 * (R-PLAN-3, R-SUB-9). Published in the transaction that made the change. Instants as ISO strings.
 */

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

/** A member joined the account (the seat it takes was free or bought in the same transaction). */
export interface AccountMemberAdded {
  accountId: string;
  userId: string;
  email: string;
  /** Members of the account after the change, owner included. */
  memberCount: number;
  occurredAt: string;
}

/** A member left the account; their seat is free from now on. */
export interface AccountMemberRemoved {
  accountId: string;
  userId: string;
  memberCount: number;
  occurredAt: string;
}

/**
 * The owner named another member as the new billing owner. `confirmUrl` carries the one-time token of
 * the e-mailed link (only its hash is stored): listeners put it in that e-mail and nowhere else.
 */
export interface AccountOwnershipTransferRequested {
  transferId: string;
  accountId: string;
  fromUserId: string;
  toUserId: string;
  toEmail: string;
  expiresAt: string;
  confirmUrl: string;
  occurredAt: string;
}

/** The named member confirmed: the roles swapped (the old owner is a member now). */
export interface AccountOwnershipTransferred {
  transferId: string;
  accountId: string;
  fromUserId: string;
  fromEmail: string;
  toUserId: string;
  toEmail: string;
  occurredAt: string;
}

declare module '../../../platform/events/domain-event.js' {
  interface DomainEventPayloads {
    'account.default_payment_method_changed': AccountDefaultPaymentMethodChanged;
    'account.member_added': AccountMemberAdded;
    'account.member_removed': AccountMemberRemoved;
    'account.ownership_transfer_requested': AccountOwnershipTransferRequested;
    'account.ownership_transferred': AccountOwnershipTransferred;
  }
}

export const ACCOUNT_EVENTS = declareDomainEvents('accounts', [
  'account.default_payment_method_changed',
  'account.member_added',
  'account.member_removed',
  'account.ownership_transfer_requested',
  'account.ownership_transferred',
]);

export const accountDefaultPaymentMethodChanged = (payload: AccountDefaultPaymentMethodChanged) =>
  domainEvent('account.default_payment_method_changed', payload);
export const memberAdded = (p: AccountMemberAdded): DomainEvent<'account.member_added'> =>
  domainEvent('account.member_added', p);
export const memberRemoved = (p: AccountMemberRemoved): DomainEvent<'account.member_removed'> =>
  domainEvent('account.member_removed', p);
export const ownershipTransferRequested = (
  p: AccountOwnershipTransferRequested,
): DomainEvent<'account.ownership_transfer_requested'> =>
  domainEvent('account.ownership_transfer_requested', p);
export const ownershipTransferred = (
  p: AccountOwnershipTransferred,
): DomainEvent<'account.ownership_transferred'> => domainEvent('account.ownership_transferred', p);
