import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRows, sql } from '../../../platform/database/row-sql.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { decodeCursor, type Page, toPage } from '../../../platform/http/pagination.js';

export const NOTIFICATION_STATUSES = ['pending', 'sent', 'failed', 'suppressed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** One outbox e-mail as operators see it (no payload: it may hold personal data beyond what they need). */
export interface NotificationView {
  id: string;
  accountId: string;
  template: string;
  status: NotificationStatus;
  attempts: number;
  recipient: string | null;
  lastError: string | null;
  messageId: string | null;
  createdAt: string;
  sentAt: string | null;
  updatedAt: string;
}

export interface NotificationFilter {
  status?: NotificationStatus | undefined;
  template?: string | undefined;
  accountId?: string | undefined;
}

/** A `notifications` row as the admin reads select it. */
export interface NotificationRow {
  id: string;
  account_id: string;
  template: string;
  status: NotificationStatus;
  attempts: number;
  recipient: string | null;
  last_error: string | null;
  message_id: string | null;
  created_at: Date;
  sent_at: Date | null;
  updated_at: Date;
}

export const NOTIFICATION_COLUMNS = sql`id, account_id, template, status, attempts, recipient, last_error, message_id, created_at,
  sent_at, updated_at`;

/** Reads of the e-mail outbox for the admin API (newest first, stable by id). */
@Injectable()
export class NotificationQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(
    filter: NotificationFilter,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<Page<NotificationView>> {
    const after = decodeCursor(options.cursor, { value: 'instant', id: 'uuid' });
    const found = await queryRows<NotificationRow>(
      this.db,
      sql`SELECT ${NOTIFICATION_COLUMNS} FROM notifications
           WHERE true
             ${filter.status ? sql`AND status = ${filter.status}` : sql``}
             ${filter.template ? sql`AND template = ${filter.template}` : sql``}
             ${filter.accountId ? sql`AND account_id = ${filter.accountId}::uuid` : sql``}
             ${after ? sql`AND (created_at, id) < (${new Date(after.value)}::timestamptz, ${after.id}::uuid)` : sql``}
           ORDER BY created_at DESC, id DESC
           LIMIT ${options.limit + 1}`,
    );
    return toPage(found.map(toView), options.limit, (v) => ({ value: v.createdAt, id: v.id }));
  }

  async get(id: string): Promise<NotificationView> {
    const [row] = await queryRows<NotificationRow>(
      this.db,
      sql`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = ${id}::uuid`,
    );
    if (!row) throw new ApiError('not_found', `No notification ${id}.`);
    return toView(row);
  }
}

export function toView(row: NotificationRow): NotificationView {
  return {
    id: row.id,
    accountId: row.account_id,
    template: row.template,
    status: row.status,
    attempts: row.attempts,
    recipient: row.recipient,
    lastError: row.last_error,
    messageId: row.message_id,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at ? row.sent_at.toISOString() : null,
    updatedAt: row.updated_at.toISOString(),
  };
}
