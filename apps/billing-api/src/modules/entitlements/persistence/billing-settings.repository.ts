import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** The one row of `billing_settings` (the global rollout percentage of billing, R-PLAN-5). */
@Injectable()
export class BillingSettingsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async rolloutPercent(manager: EntityManager = this.db.manager): Promise<number> {
    const rows: { percent: number }[] = await manager.query(
      `SELECT rollout_percent AS percent FROM billing_settings WHERE id = 1`,
    );
    const percent = rows[0]?.percent;
    if (percent === undefined) throw new Error('billing_settings has no row (migration 1764300000000)');
    return percent;
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
