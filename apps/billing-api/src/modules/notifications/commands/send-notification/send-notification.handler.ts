import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { Mailer } from '../../mailer.js';
import { NotificationOptOutsRepository } from '../../persistence/notification-opt-outs.repository.js';
import { isReminder, isTemplateName, renderTemplate, unsubscribeHeaders } from '../../templates/templates.js';
import { AppConfig } from '../../../../platform/config/app-config.js';

/** `suppressed`: a reminder the account unsubscribed from (R-NOT-3), marked so and never mailed. */
export type SendResult = 'sent' | 'already_done' | 'missing' | 'failed' | 'suppressed';

interface OutboxRow {
  id: string;
  account_id: string;
  template: string;
  recipient: string | null;
  locale: string | null;
  time_zone: string | null;
  payload: unknown;
  status: 'pending' | 'sent' | 'failed' | 'suppressed';
}

const MAX_ERROR_LENGTH = 2000;

/**
 * Sends one outbox e-mail (R-NOT-1). The row stays locked (FOR UPDATE) while the SMTP server takes the
 * message and is marked `sent` in the same transaction, so two jobs for one row never both send. The
 * one remaining window (SMTP accepted, then the commit is lost) can repeat a mail; the Message-ID is
 * stable per row so that receivers can drop the duplicate. A failure records the attempt and is
 * rethrown for Bull's backoff; on the last attempt the row is marked `failed`. A reminder whose template
 * the account opted out of is marked `suppressed` instead (R-NOT-3); transactional mails ignore opt-outs.
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
  ) {}

  async execute(notificationId: string, options: { lastAttempt: boolean }): Promise<SendResult> {
    try {
      return await this.db.transaction(async (manager) => {
        const [row] = await manager.query<OutboxRow[]>(
          `SELECT * FROM notifications WHERE id = $1 FOR UPDATE`,
          [notificationId],
        );
        if (!row) return 'missing';
        if (row.status !== 'pending') return 'already_done';
        if (!isTemplateName(row.template)) throw new Error(`unknown template ${row.template}`);
        if (
          isReminder(row.template) &&
          (await NotificationOptOutsRepository.isOptedOut(manager, row.account_id, row.template))
        ) {
          await manager.query(
            `UPDATE notifications SET status = 'suppressed', last_error = NULL, updated_at = $2 WHERE id = $1`,
            [row.id, this.clock.now()],
          );
          return 'suppressed' as const;
        }
        // In this transaction's connection: a second one per send could exhaust the pool.
        const account = await this.accounts.getAccount(row.account_id, manager);
        const recipient = row.recipient ?? account.billingEmail;
        const locale = row.locale ?? account.locale;
        const timeZone = row.time_zone ?? account.timeZone;
        const mail = renderTemplate(row.template, row.payload, {
          locale,
          timeZone,
          accountName: account.name,
        });
        const headers = unsubscribeHeaders(row.template, {
          publicBaseUrl: this.config.http.publicBaseUrl,
          secret: this.config.notifications.unsubscribeSecret,
          accountId: row.account_id,
        });
        const messageId = await this.mailer.send({
          to: recipient,
          subject: mail.subject,
          text: mail.text,
          messageId: `<${row.id}@billing.notifications>`,
          headers,
        });
        const now = this.clock.now();
        await manager.query(
          `UPDATE notifications
              SET status = 'sent', attempts = attempts + 1, sent_at = $2, message_id = $3, recipient = $4,
                  locale = $5, time_zone = $6, last_error = NULL, updated_at = $2
            WHERE id = $1`,
          [row.id, now, messageId, recipient, locale, timeZone],
        );
        return 'sent' as const;
      });
    } catch (error) {
      const reason = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(
        0,
        MAX_ERROR_LENGTH,
      );
      await this.db.query(
        `UPDATE notifications
            SET attempts = attempts + 1, last_error = $2, updated_at = $3,
                status = CASE WHEN $4 THEN 'failed' ELSE status END
          WHERE id = $1 AND status = 'pending'`,
        [notificationId, reason, this.clock.now(), options.lastAttempt],
      );
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
}
