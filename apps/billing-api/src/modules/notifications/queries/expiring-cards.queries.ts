import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { queryRows, sql, type Sql } from '../../../platform/database/row-sql.js';
import { subscriptionNowSql } from './subscription-now.sql.js';

/** An account's default card that expires before its next renewal (R-DUN-6). */
export interface ExpiringCard {
  account_id: string;
  stripe_payment_method_id: string;
  card_brand: string | null;
  card_last4: string;
  card_exp_month: number;
  card_exp_year: number;
  /** The renewal the card does not last until. */
  renewal_at: Date;
}

/**
 * Default cards that will expire (after the last day of their expiry month, UTC) before the next renewal
 * of the account's live subscription (trialing, active or past due, not canceling): still valid now, not
 * valid then. "Now" is the app's clock, or the subscription's Stripe test clock time when it runs on one
 * (`subscriptionNowSql`): under a clock set years ahead, a card that expired before the clock's time is
 * not "expiring" (its renewals fail and dunning takes over).
 * It reads the mirrors of accounts, payment methods and subscriptions (rows those modules own) in one
 * query: the reminder scan and the verdict's banner ask the same question.
 */
@Injectable()
export class ExpiringCardsQueries {
  constructor(private readonly clock: Clock) {}

  expiringDefaultCards(
    manager: EntityManager,
    options: {
      limit: number;
      accountId: string | null;
      /** Only the (card, renewal) pairs whose e-mail is not in the outbox yet. */
      unsentOnly: boolean;
    },
  ): Promise<ExpiringCard[]> {
    return queryRows<ExpiringCard>(manager, this.expiringDefaultCardsSql(options));
  }

  /** The query of {@link expiringDefaultCards}, to run alone or inside another statement. */
  expiringDefaultCardsSql(options: {
    limit: number;
    /** One account (its id, or an SQL expression naming it: the verdict of several accounts), or all. */
    accountId: string | Sql | null;
    unsentOnly: boolean;
  }): Sql {
    // The account's condition is written only when there is one: `$n IS NULL OR a.id = $n` would leave
    // a prepared statement's generic plan scanning every account.
    const account = options.accountId === null ? sql`TRUE` : sql`a.id = ${options.accountId}::uuid`;
    return sql`SELECT a.id AS account_id, pm.stripe_payment_method_id, pm.card_brand, pm.card_last4,
              pm.card_exp_month, pm.card_exp_year, s.renewal_at
         FROM accounts a
         JOIN payment_methods pm
           ON pm.stripe_payment_method_id = a.stripe_default_payment_method_id
          AND pm.status = 'attached' AND pm.card_last4 IS NOT NULL
          AND pm.card_exp_year IS NOT NULL AND pm.card_exp_month IS NOT NULL
         JOIN LATERAL (
               SELECT COALESCE(s.current_period_end, s.trial_end) AS renewal_at, t.now
                 FROM subscriptions s
                CROSS JOIN LATERAL (SELECT ${subscriptionNowSql('s', this.clock.now())} AS now) t
                WHERE s.account_id = a.id AND s.state IN ('trialing', 'active', 'past_due')
                  AND NOT s.cancel_at_period_end
                  AND COALESCE(s.current_period_end, s.trial_end) > t.now
                ORDER BY 1
                LIMIT 1) s ON true
         CROSS JOIN LATERAL (
               SELECT make_timestamptz(pm.card_exp_year, pm.card_exp_month, 1, 0, 0, 0, 'UTC')
                      + interval '1 month' AS expires_at) e
        WHERE ${account}
          AND e.expires_at <= s.renewal_at
          AND e.expires_at > s.now
          AND (NOT ${options.unsentOnly}::boolean OR NOT EXISTS (
               SELECT 1 FROM notifications n
                WHERE n.dedupe_key = 'card_expiring:' || pm.stripe_payment_method_id || ':'
                      || to_char(s.renewal_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
        LIMIT ${options.limit}`;
  }
}
