import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { readPart, sql, type ReadPart } from '../../../platform/database/row-sql.js';

/** The one row of `billing_settings` (the global rollout percentage of billing, R-PLAN-5). */
@Injectable()
export class BillingSettingsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async rolloutPercent(manager: EntityManager = this.db.manager): Promise<number> {
    return readPart(manager, this.rolloutPercentPart());
  }

  /** {@link rolloutPercent} as part of the caller's statement (output `entitlements__rollout_percent`). */
  rolloutPercentPart(): ReadPart<number> {
    return {
      ctes: [],
      outputs: [
        sql`(SELECT rollout_percent FROM billing_settings WHERE id = 1) AS entitlements__rollout_percent`,
      ],
      read: (result) => {
        const percent = result.entitlements__rollout_percent as number | null | undefined;
        if (percent === null || percent === undefined) {
          throw new Error('billing_settings has no row (migration 1764300000000)');
        }
        return percent;
      },
    };
  }

  /** Sets the percentage in the caller's transaction, the row locked first; returns the one before. */
  async setRolloutPercent(manager: EntityManager, percent: number, now: Date): Promise<number> {
    const rows: { percent: number }[] = await manager.query(
      `SELECT rollout_percent AS percent FROM billing_settings WHERE id = 1 FOR UPDATE`,
    );
    const before = rows[0]?.percent;
    if (before === undefined) throw new Error('billing_settings has no row (migration 1764300000000)');
    await manager.query(`UPDATE billing_settings SET rollout_percent = $1, updated_at = $2 WHERE id = 1`, [
      percent,
      now,
    ]);
    return before;
  }
}
