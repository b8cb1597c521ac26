import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { ASYNC_COMMIT_CTE, queryRows, raw, sql } from '../../../../platform/database/row-sql.js';
import type { AccountView } from '../../../accounts/contracts/account.view.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { Mailer, SMTP_SEND_TIMEOUT_MS } from '../../mailer.js';
import { NotificationMetrics } from '../../notification.metrics.js';
import { NotificationOptOutsRepository } from '../../persistence/notification-opt-outs.repository.js';
import { payloadAfterSent } from '../../templates/sent-payload.js';
import {
  isReminder,
  isTemplateName,
  renderTemplate,
  unsubscribeHeaders,
  unsubscribeUrl,
} from '../../templates/templates.js';

/**
 * `suppressed`: a reminder the account unsubscribed from (R-NOT-3), marked so and never mailed.
 * `busy`: another run holds the row's lease (it sends, or its lease runs out and the sweeper hands the
 * row on).
 */
export type SendResult = 'sent' | 'already_done' | 'missing' | 'failed' | 'suppressed' | 'busy';

interface ClaimedRow {
  id: string;
  account_id: string;
  template: string;
  recipient: string | null;
  locale: string | null;
  time_zone: string | null;
  payload: unknown;
  opted_out: boolean;
  account: Pick<AccountView, 'name' | 'billingEmail' | 'locale' | 'timeZone'> | null;
}

const MAX_ERROR_LENGTH = 2000;

/**
 * How long a run may hold an outbox row: well beyond what the mailer can take to hand over one message
 * (a connection, the greeting, then a few commands, each bounded by its timeout), so that a live run
 * does not lose its lease; a run that died delays its mail by at most this.
 */
export const SEND_LEASE_MS = 5 * SMTP_SEND_TIMEOUT_MS;

/**
 * Sends one outbox e-mail (R-NOT-1). One statement claims the pending row with a lease (so two jobs for
 * one row never both send) and reads what the mail needs with it: the row, the account's mail settings
 * and the opt-out. No transaction or database connection is held while the SMTP server takes the
 * message; a second statement marks the row `sent`, on the condition that the lease is still this
 * run's. The one remaining window (SMTP accepted, then the mark is lost) can repeat a mail; the
 * Message-ID is stable per row so that receivers can drop the duplicate. A failure records the attempt,
 * gives the lease back and is rethrown for Bull's backoff; on the last attempt the row is marked
 * `failed`. A reminder whose template the account opted out of is marked `suppressed` instead (R-NOT-3);
 * transactional mails ignore opt-outs. A run that dies keeps the row until its lease ends; then the
 * sweeper queues it again.
 */
@Injectable()
export class SendNotificationHandler {
  private readonly logger = new Logger('Notifications');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly accounts: AccountsFacade,
    private readonly mailer: Mailer,
    private readonly config: AppConfig,
    private readonly metrics: NotificationMetrics,
  ) {}

  async execute(notificationId: string, options: { lastAttempt: boolean }): Promise<SendResult> {
    const lease = randomUUID();
    const now = this.clock.now();
    // The lease commits without waiting for the WAL flush: lost in a database crash, the row is pending
    // and unclaimed again, as it was; the mark after the send commits durably.
    const [row] = await queryRows<ClaimedRow>(
      this.db,
      sql`WITH ${raw(ASYNC_COMMIT_CTE)}
          UPDATE notifications n
             SET claimed_by = ${lease}::uuid, claimed_until = ${new Date(now.getTime() + SEND_LEASE_MS)},
                 updated_at = ${now}
            FROM async_commit
           WHERE n.id = ${notificationId}::uuid AND n.status = 'pending'
             AND (n.claimed_until IS NULL OR n.claimed_until < ${now})
       RETURNING n.id, n.account_id, n.template, n.recipient, n.locale, n.time_zone, n.payload,
                 ${NotificationOptOutsRepository.optedOutSql(sql`n.account_id`, sql`n.template`)} AS opted_out,
                 ${this.accounts.mailSettingsSql(sql`n.account_id`)} AS account`,
    );
    if (!row) return this.notClaimed(notificationId);
    try {
      if (!isTemplateName(row.template)) throw new Error(`unknown template ${row.template}`);
      if (!row.account) throw new Error(`account ${row.account_id} not found`);
      if (isReminder(row.template) && row.opted_out) {
        await this.release(row.id, lease, sql`status = 'suppressed', last_error = NULL`);
        this.metrics.attempted(row.template, 'suppressed');
        return 'suppressed';
      }
      const recipient = row.recipient ?? row.account.billingEmail;
      const locale = row.locale ?? row.account.locale;
      const timeZone = row.time_zone ?? row.account.timeZone;
      const link = {
        publicBaseUrl: this.config.http.publicBaseUrl,
        secret: this.config.notifications.unsubscribeSecret,
        accountId: row.account_id,
      };
      const mail = renderTemplate(row.template, row.payload, {
        locale,
        timeZone,
        accountName: row.account.name,
        merchant: this.config.merchant.name,
        billingUrl: this.config.notifications.billingAppUrl,
        ...(isReminder(row.template) ? { unsubscribeUrl: unsubscribeUrl(row.template, link) } : {}),
      });
      const headers = unsubscribeHeaders(row.template, link);
      const messageId = await this.mailer.send({
        to: recipient,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: `<${row.id}@billing.notifications>`,
        headers,
      });
      const sentAt = this.clock.now();
      // A secret in the payload (the ownership transfer's token) does not outlive its delivery.
      const redacted = payloadAfterSent(row.template, row.payload);
      const marked = await this.release(
        row.id,
        lease,
        sql`status = 'sent', attempts = attempts + 1, sent_at = ${sentAt}, message_id = ${messageId},
            recipient = ${recipient}, locale = ${locale}, time_zone = ${timeZone}, last_error = NULL,
            payload = COALESCE(${redacted === null ? null : JSON.stringify(redacted)}::jsonb, payload)`,
      );
      if (!marked) {
        // Only when the send outlasted the lease and another run took the row: it may mail it again.
        this.logger.warn({ msg: 'notification sent after its lease ended', notificationId });
      }
      this.metrics.attempted(row.template, 'sent');
      return 'sent';
    } catch (error) {
      const reason = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(
        0,
        MAX_ERROR_LENGTH,
      );
      await this.release(
        notificationId,
        lease,
        sql`attempts = attempts + 1, last_error = ${reason},
            status = CASE WHEN ${options.lastAttempt}::boolean THEN 'failed' ELSE status END`,
      );
      this.metrics.attempted(row.template, options.lastAttempt ? 'failed' : 'retrying');
      if (options.lastAttempt) {
        this.logger.error({
          msg: 'notification failed for good',
          alert: 'notification_failed',
          notificationId,
          reason,
        });
        return 'failed';
      }
      this.logger.warn({ msg: 'notification failed; will retry', notificationId, reason });
      throw error;
    }
  }

  /** Writes the outcome and gives the lease back, if this run still holds it; true when it did. */
  private async release(id: string, lease: string, set: ReturnType<typeof sql>): Promise<boolean> {
    const released = await queryRows(
      this.db,
      sql`UPDATE notifications SET ${set}, claimed_by = NULL, claimed_until = NULL, updated_at = ${this.clock.now()}
           WHERE id = ${id}::uuid AND claimed_by = ${lease}::uuid
       RETURNING id`,
    );
    return released.length > 0;
  }

  /** Why a row could not be claimed: gone, no longer pending, or under another run's lease. */
  private async notClaimed(notificationId: string): Promise<SendResult> {
    const [state] = await queryRows<{ status: string }>(
      this.db,
      sql`SELECT status FROM notifications WHERE id = ${notificationId}::uuid`,
    );
    if (!state) return 'missing';
    return state.status === 'pending' ? 'busy' : 'already_done';
  }
}
