import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../platform/clock/clock.js';
import { JobQueue } from '../../platform/queue/job-queue.js';
import {
  raw,
  runStatement,
  sql,
  type ReadPart,
  type Sql,
  type StatementPart,
} from '../../platform/database/row-sql.js';
import { AfterCommit } from '../../platform/database/after-commit.js';
import type { TemplateName, TemplatePayloads } from './templates/templates.js';
import { ExpiringCardsQueries, type ExpiringCard } from './queries/expiring-cards.queries.js';

/** The account's default card, when it expires before the next renewal (R-DUN-6): the verdict's banner. */
export interface ExpiringDefaultCard {
  brand: string | null;
  last4: string;
  expMonth: number;
  expYear: number;
  /** The renewal it does not last until (ISO). */
  renewalAt: string;
}

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
    private readonly cards: ExpiringCardsQueries,
  ) {}

  /** The account's default card when it expires before the next renewal; null otherwise. */
  /**
   * The account's default card when it expires before the next renewal (the verdict's banner), as part
   * of the caller's statement (output `notifications__expiring_card`).
   */
  expiringDefaultCardPart(accountId: string | Sql): ReadPart<ExpiringDefaultCard | null> {
    const query = this.cards.expiringDefaultCardsSql({ limit: 1, accountId, unsentOnly: false });
    return {
      ctes: [],
      outputs: [sql`(SELECT row_to_json(c) FROM (${query}) c) AS notifications__expiring_card`],
      read: (result) => {
        const card = result.notifications__expiring_card as
          (Omit<ExpiringCard, 'renewal_at'> & { renewal_at: string }) | null;
        if (!card) return null;
        return {
          brand: card.card_brand,
          last4: card.card_last4,
          expMonth: card.card_exp_month,
          expYear: card.card_exp_year,
          renewalAt: new Date(card.renewal_at).toISOString(),
        };
      },
    };
  }

  /**
   * Writes the e-mail to the outbox in the caller's transaction; a second call for the same dedupe
   * key writes nothing (ON CONFLICT DO NOTHING). Its job is enqueued once the transaction commits
   * (the sweeper enqueues it if that fails). Returns the row id, or null when the cause was known.
   */
  async enqueue<N extends TemplateName>(
    manager: EntityManager,
    input: EnqueueNotification<N>,
  ): Promise<string | null> {
    const result = await runStatement(manager, [this.enqueuePart(input)]);
    return (result.notifications__id as string | null) ?? null;
  }

  /**
   * The outbox row as part of the caller's statement (CTE `notifications__outbox`, output
   * `notifications__id`: the module's namespace, see StatementPart), the same write as
   * {@link enqueue}. With `from`, the row is written once per row of that CTE, and `from.payload` (a
   * jsonb expression over it), when given, completes the payload, e.g. with a receipt number the same
   * statement allocates.
   */
  enqueuePart<N extends TemplateName>(
    input: EnqueueNotification<N> | PartialPayload<N>,
    from?: { cte: string; payload?: Sql },
  ): StatementPart {
    const id = randomUUID();
    const now = this.clock.now();
    const payload = sql`${JSON.stringify(input.payload)}::jsonb${from?.payload ? sql` || ${from.payload}` : sql``}`;
    return {
      ctes: [
        sql`notifications__outbox AS (
          INSERT INTO notifications
            (id, account_id, template, recipient, locale, time_zone, payload, dedupe_key, status, attempts,
             created_at, updated_at)
          SELECT ${id}::uuid, ${input.accountId}::uuid, ${input.template}, ${input.recipient ?? null},
                 ${input.locale ?? null}, ${input.timeZone ?? null}, ${payload}, ${input.dedupeKey}, 'pending', 0,
                 ${now}::timestamptz, ${now}::timestamptz${from ? sql` FROM ${raw(from.cte)}` : sql``}
          ON CONFLICT (dedupe_key) DO NOTHING
          RETURNING id)`,
      ],
      outputs: [sql`(SELECT id FROM notifications__outbox) AS notifications__id`],
      written: (manager, result) => {
        if (!result.notifications__id) return;
        this.afterCommit.run(manager, () =>
          this.jobs.enqueue('notifications.send', { notificationId: id }, { jobId: id }),
        );
      },
    };
  }
}

/** An outbox e-mail whose payload the statement completes (see `enqueuePart`'s `from`). */
export type PartialPayload<N extends TemplateName> = Omit<EnqueueNotification<N>, 'payload'> & {
  payload: Partial<TemplatePayloads[N]>;
};
