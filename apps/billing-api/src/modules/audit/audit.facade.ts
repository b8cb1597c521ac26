import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Repository } from 'typeorm';
import { Clock } from '../../platform/clock/clock.js';
import { insertRowSql, queryRows, type Sql } from '../../platform/database/row-sql.js';
import { RequestContext } from '../../platform/context/request-context.js';
import { decodeCursor, type Page, toPage } from '../../platform/http/pagination.js';
import type { AuditEntryInput, AuditEntryView } from './contracts/audit-entry.js';
import { AuditLogOrmEntity } from './persistence/audit-log.orm-entity.js';

/**
 * The append-only audit log every module writes to (R-CORE-7). Pass the caller's transaction manager
 * so that the record commits or rolls back with the change it describes.
 */
@Injectable()
export class AuditFacade {
  constructor(
    @InjectRepository(AuditLogOrmEntity) private readonly repository: Repository<AuditLogOrmEntity>,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntryInput, manager?: EntityManager): Promise<void> {
    const target = manager ?? this.repository.manager;
    await queryRows(target, this.recordSql(target, entry));
  }

  /**
   * The audit record as a SQL fragment, for a use case that writes its change and the record in one
   * statement (see platform/database/row-sql.ts); `onlyWith` names the CTE whose row the record describes.
   * `afterSql`: the `after` document as a jsonb expression of the statement, for values only the
   * statement knows (e.g. `entry.after` merged with a column of one of its CTEs).
   */
  recordSql(manager: EntityManager, entry: AuditEntryInput, onlyWith?: string, afterSql?: Sql): Sql {
    const actor = entry.actor ?? RequestContext.actor();
    return insertRowSql(
      manager,
      AuditLogOrmEntity,
      {
        occurredAt: this.clock.now(),
        accountId: entry.accountId,
        actorType: actor.type,
        actorId: actor.id,
        action: entry.action,
        entityType: entry.entityType,
        entityId: entry.entityId,
        before: entry.before ?? null,
        after: entry.after ?? null,
        reason: entry.reason ?? null,
        correlationId: RequestContext.current()?.correlationId ?? null,
      },
      onlyWith,
      afterSql ? { after: afterSql } : undefined,
    );
  }

  /** Newest first; stable order by id. */
  async listForAccount(
    accountId: string,
    options: { limit: number; cursor?: string },
  ): Promise<Page<AuditEntryView>> {
    const after = decodeCursor(options.cursor, { value: 'digits', id: 'digits' });
    const qb = this.repository
      .createQueryBuilder('a')
      .where('a.account_id = :accountId', { accountId })
      .orderBy('a.id', 'DESC')
      .limit(options.limit + 1);
    if (after) qb.andWhere('a.id < :id', { id: after.id });
    const rows = await qb.getMany();
    return toPage(rows.map(toView), options.limit, (v) => ({ value: v.id, id: v.id }));
  }
}

function toView(row: AuditLogOrmEntity): AuditEntryView {
  return {
    id: String(row.id),
    occurredAt: row.occurredAt.toISOString(),
    accountId: row.accountId,
    actor: { type: row.actorType, id: row.actorId },
    action: row.action,
    entityType: row.entityType,
    entityId: row.entityId,
    before: row.before,
    after: row.after,
    reason: row.reason,
    correlationId: row.correlationId,
  };
}
