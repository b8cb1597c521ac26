import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiError } from '../../../platform/http/api-error.js';
import { toInstant } from '../../../platform/validation/instant.js';
import { decodeCursor, type Page, toPage } from '../../../platform/http/pagination.js';
import type { AccountView, MemberView } from '../contracts/account.view.js';
import { AccountMemberOrmEntity } from '../persistence/account-member.orm-entity.js';
import { AccountOrmEntity } from '../persistence/account.orm-entity.js';
import { toAccountView, toMemberView } from '../persistence/account.mapper.js';

/** The admin list's filters (validated by `ListAccountsQueryDto`). */
export interface AccountListFilter {
  limit?: number | undefined;
  cursor?: string | undefined;
  billingEmail?: string | undefined;
  stripeCustomerId?: string | undefined;
  name?: string | undefined;
  createdFrom?: string | undefined;
  createdTo?: string | undefined;
}

/** Read side of accounts. */
@Injectable()
export class AccountQueries {
  constructor(
    @InjectRepository(AccountOrmEntity) private readonly accounts: Repository<AccountOrmEntity>,
    @InjectRepository(AccountMemberOrmEntity) private readonly memberRows: Repository<AccountMemberOrmEntity>,
  ) {}

  async get(accountId: string): Promise<AccountView> {
    const row = await this.accounts.findOne({ where: { id: accountId } });
    if (!row) throw new ApiError('not_found', 'The resource was not found.');
    return toAccountView(row);
  }

  /**
   * Newest first, ties broken by id, so pages never skip or repeat an account. Filters combine (AND) and
   * keep to indexes: `lower(billing_email)` (with the order), the unique `stripe_customer_id`, and
   * `(created_at, id)` for the range and the order; `name` is a substring match filtered on that walk.
   */
  async list(q: AccountListFilter): Promise<Page<AccountView>> {
    const limit = q.limit ?? 20;
    const qb = this.accounts
      .createQueryBuilder('a')
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(limit + 1);
    if (q.billingEmail !== undefined) {
      qb.andWhere('lower(a.billing_email) = lower(:email)', { email: q.billingEmail });
    }
    if (q.stripeCustomerId !== undefined) {
      qb.andWhere('a.stripe_customer_id = :customer', { customer: q.stripeCustomerId });
    }
    if (q.name !== undefined) {
      qb.andWhere(`a.name ILIKE :name ESCAPE '\\'`, { name: `%${q.name.replace(/[\\%_]/g, '\\$&')}%` });
    }
    const from = q.createdFrom === undefined ? undefined : toInstant(q.createdFrom);
    const to = q.createdTo === undefined ? undefined : toInstant(q.createdTo);
    if (from !== undefined && to !== undefined && Date.parse(to) < Date.parse(from)) {
      throw new ApiError('validation_failed', 'createdTo must not be before createdFrom', {
        param: 'createdTo',
      });
    }
    if (from !== undefined) qb.andWhere('a.created_at >= :from::timestamptz', { from });
    if (to !== undefined) qb.andWhere('a.created_at < :to::timestamptz', { to });
    const after = decodeCursor(q.cursor, { value: 'instant', id: 'uuid' });
    if (after) {
      qb.andWhere('(a.created_at, a.id) < (:at::timestamptz, :id::uuid)', { at: after.value, id: after.id });
    }
    const rows = await qb.getMany();
    return toPage(rows.map(toAccountView), limit, (a) => ({ value: a.createdAt, id: a.id }));
  }

  async members(accountId: string): Promise<MemberView[]> {
    const rows = await this.memberRows.find({
      where: { accountId },
      order: { createdAt: 'ASC', userId: 'ASC' },
    });
    return rows.map(toMemberView);
  }
}
