import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from '../../../../platform/database/after-commit.js';
import { IntegrationsFacade } from '../../../integrations/integrations.facade.js';
import { ComputeVerdictQuery } from '../../queries/compute-verdict.query.js';
import { VerdictCache } from '../../persistence/verdict.cache.js';

/**
 * A change that affects an account's verdict, in the transaction that makes it: the new verdict (as the
 * transaction sees it) goes out as an `entitlements.updated` integration event written in the same
 * transaction, and the cached verdict is invalidated once the transaction commits (never before: a
 * reader between the invalidation and the commit would cache the old verdict again).
 */
@Injectable()
export class AnnounceVerdictHandler {
  private readonly logger = new Logger('Entitlements');

  constructor(
    private readonly compute: ComputeVerdictQuery,
    private readonly integrations: IntegrationsFacade,
    private readonly cache: VerdictCache,
    private readonly afterCommit: AfterCommit,
  ) {}

  /**
   * `causeId` names the change (one integration event per account and change). `invalidate: false`
   * when the caller invalidates every verdict anyway ({@link invalidateAll}).
   */
  async execute(
    manager: EntityManager,
    accountId: string,
    causeId: string,
    options: { invalidate: boolean } = { invalidate: true },
  ): Promise<void> {
    const verdict = await this.compute.execute(accountId, manager);
    if (verdict) {
      await this.integrations.record(manager, {
        accountId,
        type: 'entitlements.updated',
        subjectId: accountId,
        causeId,
        data: { ...verdict },
      });
    }
    if (options.invalidate) this.afterCommit.run(manager, () => this.cache.invalidate(accountId));
  }

  /** The rollout changed: every cached verdict is invalidated after the commit. */
  invalidateAll(manager: EntityManager): void {
    this.afterCommit.run(manager, () => this.cache.invalidateAll());
  }
}
