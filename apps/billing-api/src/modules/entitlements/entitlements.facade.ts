import { Injectable } from '@nestjs/common';
import type { EntitlementVerdict } from './contracts/entitlement-verdict.js';
import { GetVerdictQuery } from './queries/get-verdict.query.js';

/** What other parts of the app may ask of entitlements (nothing imports it yet but the app module). */
@Injectable()
export class EntitlementsFacade {
  constructor(private readonly verdicts: GetVerdictQuery) {}

  /** The account's verdict, cached and fail-open like the API's. */
  async verdict(accountId: string): Promise<EntitlementVerdict> {
    return (await this.verdicts.execute(accountId)).verdict;
  }
}
