import type { PaymentStatus } from '@billing/domain';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../../../platform/context/request-context.js';
import { insertRowSql, queryRows, sql, type Sql, updateRowSql } from '../../../platform/database/row-sql.js';
import { PaymentStatusHistoryOrmEntity } from './payment-status-history.orm-entity.js';
import { PaymentOrmEntity } from './payment.orm-entity.js';

/**
 * The payments module's row writes, as SQL fragments (platform/database/row-sql.ts) so that a use case
 * can put several in one statement, and as single statements. Used by the API's payment creation and
 * by the webhook mirror alike.
 */

/** `UPDATE payments SET <every column> WHERE <where>` (by default: this row's id). */
export function updatePaymentSql(manager: EntityManager, row: PaymentOrmEntity, where?: Sql): Sql {
  return updateRowSql(manager, PaymentOrmEntity, row, where ?? sql`id = ${row.id}`);
}

/**
 * Writes a payment row that the caller has loaded and locked: one UPDATE by id. TypeORM's `save()` would
 * first SELECT the row again to diff it, a round trip per write on the hottest path (issue 5 benchmark).
 */
export async function updatePaymentRow(manager: EntityManager, row: PaymentOrmEntity): Promise<void> {
  await queryRows(manager, updatePaymentSql(manager, row));
}

/** One status change of a payment (R-PAY-6). */
export interface PaymentStatusLine {
  paymentId: string;
  from: PaymentStatus | null;
  to: PaymentStatus;
  declineCode: string | null;
  cause: Actor;
  at: Date;
}

/** The status history line of a change; with `onlyWith`, written only when that CTE returned a row. */
export function statusHistorySql(manager: EntityManager, line: PaymentStatusLine, onlyWith?: string): Sql {
  return insertRowSql(
    manager,
    PaymentStatusHistoryOrmEntity,
    {
      paymentId: line.paymentId,
      fromStatus: line.from,
      toStatus: line.to,
      causeType: line.cause.type,
      causeId: line.cause.id,
      declineCode: line.declineCode,
      at: line.at,
    },
    onlyWith,
  );
}
