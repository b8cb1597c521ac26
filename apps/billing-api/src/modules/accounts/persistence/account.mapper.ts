import type { AccountView, MemberView } from '../contracts/account.view.js';
import type { OwnershipTransferView } from '../contracts/ownership-transfer.view.js';
import type { AccountMemberOrmEntity } from './account-member.orm-entity.js';
import type { AccountOrmEntity } from './account.orm-entity.js';
import type { OwnershipTransferOrmEntity } from './ownership-transfer.orm-entity.js';

export function toAccountView(row: AccountOrmEntity): AccountView {
  return {
    id: row.id,
    name: row.name,
    billingEmail: row.billingEmail,
    locale: row.locale,
    timeZone: row.timeZone,
    stripeCustomerId: row.stripeCustomerId,
    billingEnabled: row.billingEnabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toMemberView(row: AccountMemberOrmEntity): MemberView {
  return { userId: row.userId, email: row.email, role: row.role, createdAt: row.createdAt.toISOString() };
}

export function toOwnershipTransferView(row: OwnershipTransferOrmEntity): OwnershipTransferView {
  return {
    id: row.id,
    accountId: row.accountId,
    fromUserId: row.fromUserId,
    toUserId: row.toUserId,
    status: row.status,
    expiresAt: row.expiresAt.toISOString(),
    confirmedAt: row.confirmedAt ? row.confirmedAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
  };
}
