import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from '../../../../platform/database/after-commit.js';
import { BeforeCommit } from '../../../../platform/database/before-commit.js';
import type { RecordIntegrationEvent } from '../../../integrations/contracts/integration-event.js';
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
 * (BeforeCommit), under the first change's cause; the verdicts of every account a transaction changed
 * are read in one statement and announced in one.
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
    await this.beforeCommit.collect(
      manager,
      'entitlements:verdicts',
      { accountId, causeId, ...options },
      (items) => this.announce(manager, items),
    );
  }

  /**
   * The verdicts of the accounts a transaction changed, each once (under its first change's cause), read
   * in one statement and announced in one; the cached ones invalidated after the commit.
   */
  private async announce(
    manager: EntityManager,
    items: { accountId: string; causeId: string; invalidate: boolean }[],
  ): Promise<void> {
    const first = new Map<string, { causeId: string; invalidate: boolean }>();
    for (const item of items) {
      const seen = first.get(item.accountId);
      if (!seen) first.set(item.accountId, { causeId: item.causeId, invalidate: item.invalidate });
      else seen.invalidate ||= item.invalidate;
    }
    const verdicts = await this.compute.executeMany([...first.keys()], manager);
    const events: RecordIntegrationEvent[] = [];
    for (const [accountId, { causeId }] of first) {
      const verdict = verdicts.get(accountId);
      if (!verdict) continue;
      events.push({
        accountId,
        type: 'entitlements.updated',
        subjectId: accountId,
        causeId,
        data: { ...verdict },
      });
    }
    await this.integrations.recordMany(manager, events);
    const stale = [...first].filter(([, item]) => item.invalidate).map(([accountId]) => accountId);
    if (stale.length > 0) {
      this.afterCommit.run(manager, async () => {
        for (const accountId of stale) await this.cache.invalidate(accountId);
      });
    }
  }

  /** The rollout changed: every cached verdict is invalidated after the commit. */
  invalidateAll(manager: EntityManager): void {
    this.afterCommit.run(manager, () => this.cache.invalidateAll());
  }
}
