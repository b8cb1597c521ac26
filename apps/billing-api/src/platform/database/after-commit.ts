import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

/** Sync or async; a thrown error or a rejection is logged, never raised. */
type Callback = () => unknown;

/**
 * Runs callbacks after the caller's transaction commits (never when it rolls back), e.g. enqueueing the
 * Bull job of an outbox row only once the row is visible. Callbacks run detached: a failure (Redis
 * down) is logged and left to the outbox sweeper, it never fails the committed transaction. Outside a
 * transaction the callback runs at once.
 */
@Injectable()
export class AfterCommit implements EntitySubscriberInterface {
  private readonly logger = new Logger('AfterCommit');
  private readonly pending = new WeakMap<QueryRunner, Callback[]>();

  constructor(@InjectDataSource() db: DataSource) {
    db.subscribers.push(this);
  }

  run(manager: EntityManager, callback: Callback): void {
    const runner = manager.queryRunner;
    if (!runner || !runner.isTransactionActive) {
      this.detach([callback]);
      return;
    }
    const list = this.pending.get(runner) ?? [];
    list.push(callback);
    this.pending.set(runner, list);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    if (runner.isTransactionActive) return; // a savepoint was released; the transaction goes on
    const list = this.pending.get(runner);
    if (!list) return;
    this.pending.delete(runner);
    this.detach(list);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) this.pending.delete(event.queryRunner);
  }

  private detach(callbacks: Callback[]): void {
    for (const callback of callbacks) {
      // The executor runs the callback at once and turns a throw into a rejection.
      new Promise((resolve) => resolve(callback())).catch((error: unknown) =>
        this.logger.warn({
          msg: 'after-commit callback failed; the sweeper will catch up',
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    }
  }
}
