import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { queryRows, sql } from '../../../../platform/database/row-sql.js';
import { CatalogFacade } from '../../../catalog/catalog.facade.js';
import { trialEndingKey } from '../../listeners/subscription-emails.listener.js';
import { NotificationsFacade } from '../../notifications.facade.js';
import { ExpiringCardsQueries, type ExpiringCard } from '../../queries/expiring-cards.queries.js';
import { subscriptionNowSql } from '../../queries/subscription-now.sql.js';

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

/**
 * The scheduled reminder scan (repeatable job `maintenance.scan-reminders`, every
 * NOTIFICATIONS_REMINDER_SCAN_INTERVAL_MS), by the app's clock, or for a subscription on a Stripe test
 * clock by that clock's time (`subscriptionNowSql`: a clock set years ahead is not "now"):
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
    private readonly cards: ExpiringCardsQueries,
  ) {}

  async scan(limit = 1000): Promise<{ trialEnding: number; cardExpiring: number }> {
    return { trialEnding: await this.trialsEnding(limit), cardExpiring: await this.cardsExpiring(limit) };
  }

  async trialsEnding(limit: number): Promise<number> {
    const now = this.clock.now();
    const rows = await queryRows<TrialRow>(
      this.db,
      sql`SELECT s.id, s.account_id, s.plan_id, s.trial_end
            FROM subscriptions s
           CROSS JOIN LATERAL (SELECT ${subscriptionNowSql('s', now)} AS now) t
           WHERE s.state = 'trialing' AND s.trial_end > t.now
             AND s.trial_end <= t.now + ${TRIAL_ENDING_LEAD_MS}::double precision * interval '1 millisecond'
             AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.dedupe_key = 'trial_ending:' || s.id::text)
           ORDER BY s.trial_end
           LIMIT ${limit}`,
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
    const rows = await this.cards.expiringDefaultCards(this.db.manager, {
      limit,
      accountId: null,
      unsentOnly: true,
    });
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
    for (const row of await this.cards.expiringDefaultCards(manager, {
      limit: 10,
      accountId,
      unsentOnly: true,
    })) {
      if (await this.enqueueCardExpiring(manager, row)) sent += 1;
    }
    return sent;
  }

  private async enqueueCardExpiring(manager: EntityManager, row: ExpiringCard): Promise<boolean> {
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
