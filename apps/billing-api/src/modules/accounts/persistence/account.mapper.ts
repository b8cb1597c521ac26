import type { AccountView, MemberView } from '../contracts/account.view.js';
import type { AccountMemberOrmEntity } from './account-member.orm-entity.js';
import type { AccountOrmEntity } from './account.orm-entity.js';

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
