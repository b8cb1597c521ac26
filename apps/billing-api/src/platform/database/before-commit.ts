import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

type Callback = () => Promise<void>;

/** TypeORM's nesting level of the runner's transaction (1: the transaction itself, more: a savepoint). */
function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}

/**
 * Work that must be done ONCE per transaction, however many changes in it call for it, and inside it:
 * e.g. an account's entitlement verdict, recomputed after several changes of one transaction (a
 * subscription event that also opens a dunning case; a batch of webhook events about one account) and
 * announced once, from the state the transaction is about to commit. `once(manager, key, callback)`
 * keeps the first callback of each key and runs them all just before the COMMIT, in the transaction:
 * a callback that throws fails the commit, so its writes commit with the transaction or not at all.
 * A callback must read what it needs when it runs (never capture state at registration), since later
 * changes of the transaction happen in between. Outside a transaction it runs at once. Callbacks
 * registered by a rolled-back transaction are dropped; those registered inside a savepoint that was
 * rolled back still run (they recompute from the committed-to-be state, so that is harmless).
 */
@Injectable()
export class BeforeCommit implements EntitySubscriberInterface {
  private readonly pending = new WeakMap<QueryRunner, Map<string, Callback>>();
  private readonly groups = new WeakMap<QueryRunner, Map<string, { items: unknown[] }>>();

  constructor(@InjectDataSource() db: DataSource) {
    db.subscribers.push(this);
  }

  async once(manager: EntityManager, key: string, callback: Callback): Promise<void> {
    const runner = manager.queryRunner;
    if (!runner || !runner.isTransactionActive) {
      await callback();
      return;
    }
    let callbacks = this.pending.get(runner);
    if (!callbacks) {
      callbacks = new Map();
      this.pending.set(runner, callbacks);
    }
    if (!callbacks.has(key)) callbacks.set(key, callback);
  }

  /**
   * Gathers `item` into the transaction's `group`; just before the commit, `flush` (the first one given
   * for the group) runs once with every item gathered, in the order given: work that one statement can do
   * for many (the verdicts of a webhook batch's accounts). Outside a transaction it runs at once.
   */
  async collect<T>(
    manager: EntityManager,
    group: string,
    item: T,
    flush: (items: T[]) => Promise<void>,
  ): Promise<void> {
    const runner = manager.queryRunner;
    if (!runner || !runner.isTransactionActive) {
      await flush([item]);
      return;
    }
    let groups = this.groups.get(runner);
    if (!groups) {
      groups = new Map();
      this.groups.set(runner, groups);
    }
    const gathered = groups.get(group) as { items: T[] } | undefined;
    if (gathered) {
      gathered.items.push(item);
      return;
    }
    const items = [item];
    groups.set(group, { items });
    await this.once(manager, `collect:${group}`, async () => {
      this.groups.get(runner)?.delete(group);
      await flush(items);
    });
  }

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const runner = event.queryRunner;
    if (depthOf(runner) > 1) return; // a savepoint is released; the transaction goes on
    // A callback may ask for more (its own changes call for another key): run until none is left.
    for (let callbacks = this.pending.get(runner); callbacks; callbacks = this.pending.get(runner)) {
      this.pending.delete(runner);
      for (const callback of callbacks.values()) await callback();
    }
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (event.queryRunner.isTransactionActive) return;
    this.pending.delete(event.queryRunner);
    this.groups.delete(event.queryRunner);
  }
}
