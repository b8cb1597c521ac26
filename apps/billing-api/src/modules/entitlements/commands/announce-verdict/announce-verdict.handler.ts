import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from '../../../../platform/database/after-commit.js';
import { BeforeCommit } from '../../../../platform/database/before-commit.js';
import { IntegrationsFacade } from '../../../integrations/integrations.facade.js';
import { ComputeVerdictQuery } from '../../queries/compute-verdict.query.js';
import { VerdictCache } from '../../persistence/verdict.cache.js';

/**
 * A change that affects an account's verdict, in the transaction that makes it: the new verdict (as the
 * transaction is about to commit it) goes out as an `entitlements.updated` integration event written in
 * the same transaction, and the cached verdict is invalidated once the transaction commits (never before:
 * a reader between the invalidation and the commit would cache the old verdict again). However many
 * changes of one transaction affect the account (a subscription event that also opens a dunning case, a
 * batch of webhook events), the verdict is computed and announced once, just before the commit
 * (BeforeCommit), under the first change's cause.
 */
@Injectable()
export class AnnounceVerdictHandler {
  private readonly logger = new Logger('Entitlements');

  constructor(
    private readonly compute: ComputeVerdictQuery,
    private readonly integrations: IntegrationsFacade,
    private readonly cache: VerdictCache,
    private readonly afterCommit: AfterCommit,
    private readonly beforeCommit: BeforeCommit,
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
    await this.beforeCommit.once(manager, `entitlements:verdict:${accountId}`, () =>
      this.announce(manager, accountId, causeId),
    );
    if (options.invalidate) {
      await this.beforeCommit.once(manager, `entitlements:invalidate:${accountId}`, async () =>
        this.afterCommit.run(manager, () => this.cache.invalidate(accountId)),
      );
    }
  }

  private async announce(manager: EntityManager, accountId: string, causeId: string): Promise<void> {
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
  }

  /** The rollout changed: every cached verdict is invalidated after the commit. */
  invalidateAll(manager: EntityManager): void {
    this.afterCommit.run(manager, () => this.cache.invalidateAll());
  }
}
