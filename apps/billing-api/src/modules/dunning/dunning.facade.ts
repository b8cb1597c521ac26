import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ReadPart, Sql } from '../../platform/database/row-sql.js';
import type { DunningStage } from './contracts/dunning-case.view.js';
import { DunningCaseQueries } from './queries/dunning-case.queries.js';

/** What other modules may ask of dunning: entitlements reads an account's stage for its verdict. */
@Injectable()
export class DunningFacade {
  constructor(private readonly queries: DunningCaseQueries) {}

  /**
   * The account's open case in short (stage, last and next step; null when it has none), as part of the
   * caller's statement (output `dunning__stage`).
   */
  stagePart(accountId: string | Sql, manager?: EntityManager): ReadPart<DunningStage | null> {
    return this.queries.stagePart(accountId, manager);
  }
}
