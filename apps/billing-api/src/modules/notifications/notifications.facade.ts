import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../platform/clock/clock.js';
import { JobQueue } from '../../platform/queue/job-queue.js';
import { AfterCommit } from './after-commit.js';
import type { TemplateName, TemplatePayloads } from './templates/templates.js';

export interface EnqueueNotification<N extends TemplateName> {
  accountId: string;
  template: N;
  payload: TemplatePayloads[N];
  /** The cause, unique for all time (e.g. `receipt:<paymentId>`): one e-mail per cause, ever. */
  dedupeKey: string;
  /** Defaults to the account's billing email, locale and time zone when the mail is sent. */
  recipient?: string;
  locale?: string;
  timeZone?: string;
}

/** What other modules may ask of notifications (R-NOT-1). */
@Injectable()
export class NotificationsFacade {
  constructor(
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
    private readonly afterCommit: AfterCommit,
  ) {}

  /**
   * Writes the e-mail to the outbox in the caller's transaction; a second call for the same dedupe
   * key writes nothing (ON CONFLICT DO NOTHING). Its job is enqueued once the transaction commits
   * (the sweeper enqueues it if that fails). Returns the row id, or null when the cause was known.
   */
  async enqueue<N extends TemplateName>(
    manager: EntityManager,
    input: EnqueueNotification<N>,
  ): Promise<string | null> {
    const id = randomUUID();
    const now = this.clock.now();
    const inserted: { id: string }[] = await manager.query(
      `INSERT INTO notifications
         (id, account_id, template, recipient, locale, time_zone, payload, dedupe_key, status, attempts,
          created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9)
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING id`,
      [
        id,
        input.accountId,
        input.template,
        input.recipient ?? null,
        input.locale ?? null,
        input.timeZone ?? null,
        JSON.stringify(input.payload),
        input.dedupeKey,
        now,
      ],
    );
    if (inserted.length === 0) return null;
    this.afterCommit.run(manager, () =>
      this.jobs.enqueue('notifications.send', { notificationId: id }, { jobId: id }),
    );
    return id;
  }
}
