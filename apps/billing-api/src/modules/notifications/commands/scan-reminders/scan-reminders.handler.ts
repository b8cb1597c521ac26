import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { CatalogFacade } from '../../../catalog/catalog.facade.js';
import { trialEndingKey } from '../../listeners/subscription-emails.listener.js';
import { NotificationsFacade } from '../../notifications.facade.js';

/** A trial-ending reminder is due this long before the trial ends (Stripe's `trial_will_end` lead). */
export const TRIAL_ENDING_LEAD_MS = 3 * 86_400_000;

/** One card-expiring reminder per (card, renewal): the renewal the card would not last until. */
export const cardExpiringKey = (stripePaymentMethodId: string, renewalAt: Date): string =>
  `card_expiring:${stripePaymentMethodId}:${renewalAt.toISOString()}`;

interface TrialRow {
  id: string;
  account_id: string;
  plan_id: string | null;
  trial_end: Date;
}

interface CardRow {
  account_id: string;
  stripe_payment_method_id: string;
  card_brand: string | null;
  card_last4: string;
  card_exp_month: number;
  card_exp_year: number;
  renewal_at: Date;
}

/**
 * The scheduled reminder scan (repeatable job `maintenance.scan-reminders`, every
 * NOTIFICATIONS_REMINDER_SCAN_INTERVAL_MS), by the app's clock:
 * - trial ending (R-NOT-2): every trialing subscription whose trial ends within three days. Stripe's
 *   `trial_will_end` notice normally sends it first (subscription-emails.listener.ts); the scan is the
 *   catch-up when that notice was lost, and both use one dedupe key, so a trial gets one reminder.
 * - card expiring (R-DUN-6, R-EDGE-1): every account whose default card expires (after the last day of
 *   its expiry month, UTC) before the next renewal of its live subscription: one e-mail per (card,
 *   renewal); a new card, or the next renewal, is a new cause.
 * It reads the mirrors of subscriptions, accounts and payment methods in one query each (a read model
 * of rows those modules own; it writes only to the outbox). Rows whose e-mail exists are skipped in
 * the query; the outbox's unique dedupe key settles a race with the listener or another worker.
 */
@Injectable()
export class ScanRemindersHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly notifications: NotificationsFacade,
    private readonly catalog: CatalogFacade,
  ) {}

  async scan(limit = 1000): Promise<{ trialEnding: number; cardExpiring: number }> {
    return { trialEnding: await this.trialsEnding(limit), cardExpiring: await this.cardsExpiring(limit) };
  }

  async trialsEnding(limit: number): Promise<number> {
    const now = this.clock.now();
    const rows = await this.db.query<TrialRow[]>(
      `SELECT s.id, s.account_id, s.plan_id, s.trial_end
         FROM subscriptions s
        WHERE s.state = 'trialing' AND s.trial_end > $1 AND s.trial_end <= $2
          AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.dedupe_key = 'trial_ending:' || s.id::text)
        ORDER BY s.trial_end
        LIMIT $3`,
      [now, new Date(now.getTime() + TRIAL_ENDING_LEAD_MS), limit],
    );
    let sent = 0;
    for (const row of rows) {
      const id = await this.db.transaction((manager) =>
        this.notifications.enqueue(manager, {
          accountId: row.account_id,
          template: 'trial_ending',
          dedupeKey: trialEndingKey(row.id),
          payload: {
            subscriptionId: row.id,
            planId: row.plan_id ?? '',
            planName: (row.plan_id && this.catalog.plan(row.plan_id)?.name) ?? row.plan_id ?? 'trial',
            trialEnd: row.trial_end.toISOString(),
          },
        }),
      );
      if (id) sent += 1;
    }
    return sent;
  }

  /** Card-expiring reminders of every account, each enqueued in a transaction of its own. */
  async cardsExpiring(limit: number): Promise<number> {
    const rows = await this.expiringCards(this.db.manager, limit, null);
    let sent = 0;
    for (const row of rows) {
      if (await this.db.transaction((manager) => this.enqueueCardExpiring(manager, row))) sent += 1;
    }
    return sent;
  }

  /**
   * The card-expiring reminder of one account, in the caller's transaction: when its default card
   * changed (the new card may expire before the renewal, R-DUN-6). When the new card's mirror row is not
   * there yet (its `payment_method.attached` comes later), the scheduled scan finds it.
   */
  async cardExpiringOf(manager: EntityManager, accountId: string): Promise<number> {
    let sent = 0;
    for (const row of await this.expiringCards(manager, 10, accountId)) {
      if (await this.enqueueCardExpiring(manager, row)) sent += 1;
    }
    return sent;
  }

  private expiringCards(manager: EntityManager, limit: number, accountId: string | null): Promise<CardRow[]> {
    return manager.query<CardRow[]>(
      `SELECT a.id AS account_id, pm.stripe_payment_method_id, pm.card_brand, pm.card_last4,
              pm.card_exp_month, pm.card_exp_year, s.renewal_at
         FROM accounts a
         JOIN payment_methods pm
           ON pm.stripe_payment_method_id = a.stripe_default_payment_method_id
          AND pm.status = 'attached' AND pm.card_last4 IS NOT NULL
          AND pm.card_exp_year IS NOT NULL AND pm.card_exp_month IS NOT NULL
         JOIN LATERAL (
               SELECT COALESCE(s.current_period_end, s.trial_end) AS renewal_at
                 FROM subscriptions s
                WHERE s.account_id = a.id AND s.state IN ('trialing', 'active', 'past_due')
                  AND NOT s.cancel_at_period_end
                  AND COALESCE(s.current_period_end, s.trial_end) > $1
                ORDER BY 1
                LIMIT 1) s ON true
        WHERE ($3::uuid IS NULL OR a.id = $3::uuid)
          AND make_timestamptz(pm.card_exp_year, pm.card_exp_month, 1, 0, 0, 0, 'UTC') + interval '1 month'
              <= s.renewal_at
          AND NOT EXISTS (
               SELECT 1 FROM notifications n
                WHERE n.dedupe_key = 'card_expiring:' || pm.stripe_payment_method_id || ':'
                      || to_char(s.renewal_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        LIMIT $2`,
      [this.clock.now(), limit, accountId],
    );
  }

  private async enqueueCardExpiring(manager: EntityManager, row: CardRow): Promise<boolean> {
    const id = await this.notifications.enqueue(manager, {
      accountId: row.account_id,
      template: 'card_expiring',
      dedupeKey: cardExpiringKey(row.stripe_payment_method_id, row.renewal_at),
      payload: {
        brand: row.card_brand,
        last4: row.card_last4,
        expMonth: row.card_exp_month,
        expYear: row.card_exp_year,
        renewalAt: row.renewal_at.toISOString(),
      },
    });
    return id !== null;
  }
}
