import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiError } from '../../../platform/http/api-error.js';
import { decodeCursor, type Page, toPage } from '../../../platform/http/pagination.js';
import type { AccountView, MemberView } from '../contracts/account.view.js';
import { AccountMemberOrmEntity } from '../persistence/account-member.orm-entity.js';
import { AccountOrmEntity } from '../persistence/account.orm-entity.js';
import { toAccountView, toMemberView } from '../persistence/account.mapper.js';

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

  /** Newest first, ties broken by id, so pages never skip or repeat an account. */
  async list(options: { limit: number; cursor?: string | undefined }): Promise<Page<AccountView>> {
    const after = decodeCursor(options.cursor);
    const qb = this.accounts
      .createQueryBuilder('a')
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(options.limit + 1);
    if (after) {
      qb.where('(a.created_at, a.id) < (:at::timestamptz, :id::uuid)', {
        at: String(after.value),
        id: after.id,
      });
    }
    const rows = await qb.getMany();
    return toPage(rows.map(toAccountView), options.limit, (a) => ({ value: a.createdAt, id: a.id }));
  }

  async members(accountId: string): Promise<MemberView[]> {
    const rows = await this.memberRows.find({
      where: { accountId },
      order: { createdAt: 'ASC', userId: 'ASC' },
    });
    return rows.map(toMemberView);
  }
}
