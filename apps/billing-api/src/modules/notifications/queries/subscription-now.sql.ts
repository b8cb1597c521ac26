import { raw, sql, type Sql } from '../../../platform/database/row-sql.js';

/**
 * "Now" for one mirrored subscription (`alias` names its row), as an SQL expression: `now` (the app's
 * clock) for a subscription on real time; for one on a Stripe test clock (test mode) that clock's time,
 * the later of the clock's last `frozen_time` the app recorded (`dunning_test_clocks`, from
 * `test_helpers.test_clock.ready`) and the `created` (clock time) of the subscription's last Stripe
 * event. So a test clock set years ahead or behind is judged by its own time, as Stripe bills it.
 * Reads the dunning module's record of clock times (a read model, like the mirrors these queries join).
 */
export function subscriptionNowSql(alias: string, now: Date): Sql {
  const s = raw(alias);
  return sql`(CASE WHEN ${s}.test_clock_id IS NULL THEN ${now}::timestamptz
           ELSE GREATEST(to_timestamp(${s}.last_event_created),
                         (SELECT c.frozen_time FROM dunning_test_clocks c
                           WHERE c.test_clock_id = ${s}.test_clock_id)) END)`;
}
