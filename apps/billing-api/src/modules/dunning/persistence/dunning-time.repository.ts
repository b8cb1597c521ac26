import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';

/**
 * The time a case's timeline runs on (R-DUN-5: the failed invoice's clock, never one process's): real
 * time, or under a Stripe test clock the latest time seen of that clock (its `frozen_time` from
 * `test_helpers.test_clock.ready`, or an event's `created` on it), so that advancing the clock runs
 * the steps that fall due.
 */
@Injectable()
export class DunningTimeRepository {
  constructor(private readonly clock: Clock) {}

  async now(manager: EntityManager, testClockId: string | null): Promise<Date> {
    if (!testClockId) return this.clock.now();
    const rows: { frozen_time: Date }[] = await manager.query(
      `SELECT frozen_time FROM dunning_test_clocks WHERE test_clock_id = $1`,
      [testClockId],
    );
    return rows[0]?.frozen_time ?? new Date(0);
  }

  /**
   * Records that the test clock reached `at` (time only moves forward) and returns its time now. Only a
   * later time is written (in the caller's transaction), so that the many cases one clock advance opens
   * do not all queue on the clock's row lock: the first writes it, the others read it. `known`: the
   * clock's time the caller already read in this transaction (null: none recorded), saving the read.
   */
  async clockReached(
    manager: EntityManager,
    testClockId: string,
    at: Date,
    known?: Date | null,
  ): Promise<Date> {
    const time = known === undefined ? await this.now(manager, testClockId) : (known ?? new Date(0));
    if (time.getTime() >= at.getTime()) return time;
    const rows: { frozen_time: Date }[] = await manager.query(
      `INSERT INTO dunning_test_clocks (test_clock_id, frozen_time, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (test_clock_id) DO UPDATE
         SET frozen_time = GREATEST(dunning_test_clocks.frozen_time, EXCLUDED.frozen_time),
             updated_at = EXCLUDED.updated_at
       RETURNING frozen_time`,
      [testClockId, at, this.clock.now()],
    );
    return rows[0]?.frozen_time ?? at;
  }
}
