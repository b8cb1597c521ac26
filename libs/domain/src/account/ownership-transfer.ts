import { DomainInvariantError, rejection, type DomainRejection } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';

/** How long the e-mailed confirmation link of an ownership transfer is valid (R-SUB-9): 48 hours. */
export const OWNERSHIP_TRANSFER_TTL_MS = 48 * 60 * 60 * 1000;

/** pending -> confirmed (the roles swapped) | superseded (the owner named someone else since). */
export type OwnershipTransferStatus = 'pending' | 'confirmed' | 'superseded';

/** A member of the account as the transfer rules see it. */
export interface TransferMember {
  readonly userId: string;
  readonly role: 'owner' | 'member';
}

/** The transfer as stored (the token itself is never stored, only its hash). */
export interface OwnershipTransfer {
  readonly fromUserId: string;
  readonly toUserId: string;
  readonly status: OwnershipTransferStatus;
  readonly expiresAt: Date;
}

/**
 * Whether the owner `requestedBy` may hand billing ownership to `toUserId` (R-SUB-9): the requester must
 * be the account's owner, and the new owner another member of the account.
 */
export function checkOwnershipTransferRequest(input: {
  members: readonly TransferMember[];
  requestedBy: string;
  toUserId: string;
}): Result<{ fromUserId: string }, DomainRejection> {
  const owner = input.members.find((m) => m.role === 'owner');
  if (!owner || owner.userId !== input.requestedBy) {
    return err(
      rejection('ownership_transfer_not_owner', 'only the account owner can transfer billing ownership', {
        requestedBy: input.requestedBy,
      }),
    );
  }
  if (input.toUserId === owner.userId) {
    return err(
      rejection('ownership_transfer_invalid_target', 'the new owner must be another member of the account', {
        toUserId: input.toUserId,
      }),
    );
  }
  if (!input.members.some((m) => m.userId === input.toUserId)) {
    return err(
      rejection('ownership_transfer_invalid_target', 'the new owner must be a member of the account', {
        toUserId: input.toUserId,
      }),
    );
  }
  return ok({ fromUserId: owner.userId });
}

/** When a transfer requested at `now` expires. */
export function ownershipTransferExpiry(now: Date): Date {
  if (Number.isNaN(now.getTime())) throw new DomainInvariantError('now is not a valid date');
  return new Date(now.getTime() + OWNERSHIP_TRANSFER_TTL_MS);
}

/**
 * Whether `userId` may confirm the transfer at `now` (R-SUB-9): a link is single use (a confirmed or
 * superseded transfer is `ownership_transfer_used`), valid until it expires (then
 * `ownership_transfer_expired`), and only for the member it names (`ownership_transfer_wrong_user`,
 * which does not use up the link). The members must still be as they were: the old owner still owns
 * the account and the new one is still a member (`ownership_transfer_stale`).
 */
export function checkOwnershipConfirmation(input: {
  transfer: OwnershipTransfer;
  userId: string;
  members: readonly TransferMember[];
  now: Date;
}): Result<{ fromUserId: string; toUserId: string }, DomainRejection> {
  const { transfer, userId, members, now } = input;
  if (transfer.status !== 'pending') {
    return err(
      rejection('ownership_transfer_used', 'this ownership transfer link was already used or replaced', {
        status: transfer.status,
      }),
    );
  }
  if (now.getTime() >= transfer.expiresAt.getTime()) {
    return err(
      rejection('ownership_transfer_expired', 'this ownership transfer link has expired: ask for a new one', {
        expiredAt: transfer.expiresAt.toISOString(),
      }),
    );
  }
  if (userId !== transfer.toUserId) {
    return err(
      rejection('ownership_transfer_wrong_user', 'this ownership transfer names another member', {}),
    );
  }
  const from = members.find((m) => m.userId === transfer.fromUserId);
  const to = members.find((m) => m.userId === transfer.toUserId);
  if (from?.role !== 'owner' || to?.role !== 'member') {
    return err(
      rejection('ownership_transfer_stale', 'the account members changed since the transfer was asked for', {
        fromUserId: transfer.fromUserId,
        toUserId: transfer.toUserId,
      }),
    );
  }
  return ok({ fromUserId: transfer.fromUserId, toUserId: transfer.toUserId });
}
