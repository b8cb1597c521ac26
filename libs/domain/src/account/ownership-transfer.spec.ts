import { describe, expect, it } from '@jest/globals';
import {
  checkOwnershipConfirmation,
  checkOwnershipTransferRequest,
  OWNERSHIP_TRANSFER_TTL_MS,
  ownershipTransferExpiry,
  type OwnershipTransfer,
  type TransferMember,
} from './ownership-transfer.js';

const members: TransferMember[] = [
  { userId: 'alice', role: 'owner' },
  { userId: 'bob', role: 'member' },
];
const NOW = new Date('2026-03-01T10:00:00Z');
const pending: OwnershipTransfer = {
  fromUserId: 'alice',
  toUserId: 'bob',
  status: 'pending',
  expiresAt: ownershipTransferExpiry(NOW),
};
const codeOf = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error?.code);

describe('checkOwnershipTransferRequest (R-SUB-9)', () => {
  it('lets the owner name another member', () => {
    expect(checkOwnershipTransferRequest({ members, requestedBy: 'alice', toUserId: 'bob' })).toEqual({
      ok: true,
      value: { fromUserId: 'alice' },
    });
  });

  it('refuses a requester who is not the owner of the members table', () => {
    expect(codeOf(checkOwnershipTransferRequest({ members, requestedBy: 'bob', toUserId: 'alice' }))).toBe(
      'ownership_transfer_not_owner',
    );
    expect(codeOf(checkOwnershipTransferRequest({ members, requestedBy: 'eve', toUserId: 'bob' }))).toBe(
      'ownership_transfer_not_owner',
    );
  });

  it('refuses the owner themself and a user who is not a member', () => {
    for (const toUserId of ['alice', 'carol']) {
      expect(codeOf(checkOwnershipTransferRequest({ members, requestedBy: 'alice', toUserId }))).toBe(
        'ownership_transfer_invalid_target',
      );
    }
  });
});

describe('checkOwnershipConfirmation (R-SUB-9)', () => {
  const confirm = (over: Partial<Parameters<typeof checkOwnershipConfirmation>[0]> = {}) =>
    checkOwnershipConfirmation({ transfer: pending, userId: 'bob', members, now: NOW, ...over });

  it('accepts the named member before the link expires', () => {
    expect(confirm()).toEqual({ ok: true, value: { fromUserId: 'alice', toUserId: 'bob' } });
    expect(codeOf(confirm({ now: new Date(NOW.getTime() + OWNERSHIP_TRANSFER_TTL_MS - 1) }))).toBe('ok');
  });

  it('expires 48 hours after the request, to the millisecond', () => {
    expect(pending.expiresAt.toISOString()).toBe('2026-03-03T10:00:00.000Z');
    expect(codeOf(confirm({ now: pending.expiresAt }))).toBe('ownership_transfer_expired');
  });

  it('is single use: a confirmed or superseded link is used', () => {
    for (const status of ['confirmed', 'superseded'] as const) {
      expect(codeOf(confirm({ transfer: { ...pending, status } }))).toBe('ownership_transfer_used');
    }
  });

  it('refuses another user, and members that changed since', () => {
    expect(codeOf(confirm({ userId: 'alice' }))).toBe('ownership_transfer_wrong_user');
    expect(codeOf(confirm({ members: [{ userId: 'alice', role: 'owner' }] }))).toBe(
      'ownership_transfer_stale',
    );
    expect(
      codeOf(
        confirm({
          members: [
            { userId: 'alice', role: 'member' },
            { userId: 'bob', role: 'owner' },
          ],
        }),
      ),
    ).toBe('ownership_transfer_stale');
  });
});
