import type { EntityManager } from 'typeorm';
import { sql, type Sql } from '../../../platform/database/row-sql.js';

/** Who may write an opt-out: the one-click link in a reminder, or the preferences API. */
export type OptOutSource = 'one_click' | 'api';

export interface OptOutRow {
  template: string;
  source: OptOutSource;
  created_at: Date;
}

/**
 * `notification_opt_outs` (account, template) rows in the caller's transaction. Writes report whether
 * they changed anything, so that a repeated request is a no-op and is audited once.
 */
export const NotificationOptOutsRepository = {
  /** Whether the account opted out of the template, as a SQL expression over the caller's columns. */
  optedOutSql(accountId: Sql, template: Sql): Sql {
    return sql`EXISTS (SELECT 1 FROM notification_opt_outs o WHERE o.account_id = ${accountId} AND o.template = ${template})`;
  },

  async list(manager: EntityManager, accountId: string): Promise<OptOutRow[]> {
    return manager.query<OptOutRow[]>(
      `SELECT template, source, created_at FROM notification_opt_outs WHERE account_id = $1 ORDER BY template`,
      [accountId],
    );
  },

  /** Inserts the opt-out; false when it was already there. */
  async insert(
    manager: EntityManager,
    row: { accountId: string; template: string; source: OptOutSource; now: Date },
  ): Promise<boolean> {
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO notification_opt_outs (account_id, template, source, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account_id, template) DO NOTHING
       RETURNING 1`,
      [row.accountId, row.template, row.source, row.now],
    );
    return inserted.length > 0;
  },

  /** Deletes the opt-out; false when there was none. */
  async delete(manager: EntityManager, accountId: string, template: string): Promise<OptOutRow | null> {
    const [deleted] = await manager.query<[OptOutRow[], number]>(
      `DELETE FROM notification_opt_outs WHERE account_id = $1 AND template = $2
       RETURNING template, source, created_at`,
      [accountId, template],
    );
    return deleted[0] ?? null;
  },
};
