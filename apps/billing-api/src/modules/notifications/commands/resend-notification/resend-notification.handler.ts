import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { queryRows, sql } from '../../../../platform/database/row-sql.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { JobQueue } from '../../../../platform/queue/job-queue.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import {
  NOTIFICATION_COLUMNS,
  type NotificationRow,
  type NotificationView,
  toView,
} from '../../queries/notification.queries.js';

/**
 * Sends a failed outbox e-mail again (admin): the row goes back to `pending` with its attempts reset,
 * audited with the error it had, and is queued after commit (a lost enqueue is caught by the outbox
 * sweeper). Only a `failed` row: one the SMTP server never took, so the customer has not had it; a
 * row that is pending, sent or suppressed is a 409 and stays as it is. Its Message-ID is the row's,
 * as on the first attempts.
 */
@Injectable()
export class ResendNotificationHandler {
  private readonly logger = new Logger('Notifications');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly jobs: JobQueue,
  ) {}

  async execute(id: string): Promise<NotificationView> {
    const view = await this.db.transaction(async (manager) => {
      // last_error stays: the error it had remains visible until the next attempt replaces it.
      const [row] = await queryRows<NotificationRow>(
        manager,
        sql`UPDATE notifications
               SET status = 'pending', attempts = 0, claimed_by = NULL, claimed_until = NULL,
                   updated_at = ${this.clock.now()}
             WHERE id = ${id}::uuid AND status = 'failed'
         RETURNING ${NOTIFICATION_COLUMNS}`,
      );
      if (!row) {
        const [existing] = await queryRows<{ status: string }>(
          manager,
          sql`SELECT status FROM notifications WHERE id = ${id}::uuid`,
        );
        if (!existing) throw new ApiError('not_found', `No notification ${id}.`);
        throw new ApiError(
          'notification_not_failed',
          `Notification ${id} is ${existing.status}; only a failed e-mail can be sent again.`,
        );
      }
      await this.audit.record(
        {
          accountId: row.account_id,
          action: 'notification.resent',
          entityType: 'notification',
          entityId: row.id,
          before: { status: 'failed', lastError: row.last_error },
          after: { status: 'pending' },
          reason: `resend of ${row.template}`,
        },
        manager,
      );
      return toView(row);
    });
    try {
      await this.jobs.ensureQueued('notifications.send', { notificationId: view.id }, view.id);
    } catch (error) {
      this.logger.warn({
        msg: 'resent notification not queued; the outbox sweeper will queue it',
        notificationId: view.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return view;
  }
}
