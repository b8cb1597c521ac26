import { Injectable } from '@nestjs/common';
import type { AccountView, MemberView } from './contracts/account.view.js';
import { AccountQueries } from './queries/account.queries.js';

/** What other modules may ask of accounts. */
@Injectable()
export class AccountsFacade {
  constructor(private readonly queries: AccountQueries) {}

  getAccount(accountId: string): Promise<AccountView> {
    return this.queries.get(accountId);
  }

  listMembers(accountId: string): Promise<MemberView[]> {
    return this.queries.members(accountId);
  }
}
