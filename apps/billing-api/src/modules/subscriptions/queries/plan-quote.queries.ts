import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '../../../platform/http/api-error.js';
import type { PlanQuoteView } from '../contracts/plan-quote.view.js';
import { toPlanQuoteView } from '../persistence/subscription-quote.mapper.js';
import { SubscriptionQuoteOrmEntity } from '../persistence/subscription-quote.orm-entity.js';

/** Reads quotes (R-SUB-3); another account's quote is 404, never its data. */
@Injectable()
export class PlanQuoteQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async forAccount(accountId: string, quoteId: string): Promise<PlanQuoteView> {
    const row = await this.db
      .getRepository(SubscriptionQuoteOrmEntity)
      .findOne({ where: { id: quoteId, accountId } });
    if (!row) throw new ApiError('not_found', 'No such quote for this account.');
    return toPlanQuoteView(row);
  }
}
