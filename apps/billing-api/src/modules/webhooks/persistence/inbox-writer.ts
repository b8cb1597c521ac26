import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { RequestContext } from '../../../platform/context/request-context.js';
import { rows } from '../../../platform/database/row-sql.js';
import { InboxQueue } from '../processing/inbox-queue.js';

/** A verified event as the inbox stores it. */
export interface InboxRowInput {
  id: string;
  type: string;
  apiVersion: string | null;
  livemode: boolean;
  /** Stripe's `created`, Unix seconds. */
  created: number;
  /** The JSON text stored as `payload` (jsonb). */
  payload: string;
  /** The exact verified bytes, kept only when `payload` had to be escaped. */
  rawBody: Buffer | null;
}

export type InboxWriteResult = { stored: true; queued: boolean } | { stored: false; duplicate: true };

interface Waiter {
  row: InboxRowInput;
  /** The delivery's correlation id, for the logs and audit records of the event's processing. */
  correlationId: string;
  resolve: (result: InboxWriteResult) => void;
  reject: (error: unknown) => void;
}

/** Rows per INSERT: about 330 KB of payloads for Stripe's 3.3 KB events. */
const MAX_BATCH = 100;
/** Group commits running at once: one fills while the other is written, so PostgreSQL is never idle. */
const MAX_IN_FLIGHT = 2;
const COLUMNS_PER_ROW = 7;

/**
 * The one writer of new inbox rows (issue 22): a group commit. Events verified while an INSERT is
 * running wait for it and go together in the next one (up to 100): one multi-row INSERT ... ON CONFLICT
 * DO NOTHING, one commit, then ONE `webhooks.process-events` job for the rows it inserted, whose id the
 * rows keep (`job_id`). Under load this shares a commit, a round trip and a Redis add among tens of events;
 * alone, an event is written at once (no timer, no added wait). Each caller learns its own event's fate:
 * stored (and queued or not), a duplicate (the id is there, or came twice in one group), or the error
 * (nothing acknowledged unless the INSERT committed). A group whose INSERT fails is written again row by
 * row, so that one row PostgreSQL refuses does not fail its group-mates.
 */
@Injectable()
export class InboxWriter {
  private readonly logger = new Logger('WebhookIntake');
  private waiting: Waiter[] = [];
  private inFlight = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly queue: InboxQueue,
  ) {}

  write(row: InboxRowInput): Promise<InboxWriteResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ row, correlationId: RequestContext.correlationId(), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.waiting.length > 0) {
      const group = this.waiting.splice(0, MAX_BATCH);
      this.inFlight += 1;
      void this.flush(group).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async flush(group: Waiter[]): Promise<void> {
    // One row per event id; a second delivery of the same event in this group shares the first's fate.
    const byId = new Map<string, Waiter[]>();
    for (const waiter of group) byId.set(waiter.row.id, [...(byId.get(waiter.row.id) ?? []), waiter]);
    const firsts = [...byId.values()].map(([first]) => first as Waiter);
    const candidates = firsts.map((waiter) => waiter.row);
    const jobId = `events:${randomUUID()}`;
    const inserted = new Set<string>();
    const failed = new Map<string, unknown>();
    try {
      for (const id of await this.insert(candidates, jobId)) inserted.add(id);
    } catch (error) {
      if (candidates.length === 1) failed.set((candidates[0] as InboxRowInput).id, error);
      else {
        for (const row of candidates) {
          try {
            for (const id of await this.insert([row], jobId)) inserted.add(id);
          } catch (rowError) {
            failed.set(row.id, rowError);
          }
        }
      }
    }
    let queued = false;
    if (inserted.size > 0) {
      const queuedNow = firsts.filter((waiter) => inserted.has(waiter.row.id));
      const ids = queuedNow.map((waiter) => waiter.row.id);
      try {
        await this.queue.enqueueBatch(
          ids,
          queuedNow.map((waiter) => waiter.correlationId),
          jobId,
        );
        queued = true;
      } catch (error) {
        this.logger.warn({
          msg: 'webhooks stored but not queued; the sweeper will enqueue them',
          eventIds: ids,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    for (const [id, waiters] of byId) {
      waiters.forEach((waiter, index) => {
        if (failed.has(id)) waiter.reject(failed.get(id));
        else if (index === 0 && inserted.has(id)) waiter.resolve({ stored: true, queued });
        else waiter.resolve({ stored: false, duplicate: true });
      });
    }
  }

  /** One INSERT of the rows; returns the ids it inserted (an id already stored is left as it is). */
  private async insert(batch: InboxRowInput[], jobId: string): Promise<string[]> {
    const now = this.clock.now();
    const params: unknown[] = [now, jobId];
    const values = batch.map((row) => {
      const at = params.length;
      params.push(row.id, row.type, row.apiVersion, row.livemode, row.created, row.payload, row.rawBody);
      const p = Array.from({ length: COLUMNS_PER_ROW }, (_, i) => `$${at + i + 1}`);
      return `(${p[0]}, ${p[1]}, ${p[2]}, ${p[3]}, to_timestamp(${p[4]}), $1, ${p[5]}::jsonb, ${p[6]}, 'pending', 0, $1, $2)`;
    });
    // Through TypeORM's DataSource rather than its pg pool (`driver.master`): in a CPU profile of the intake
    // under load (issue 4, 2026-11) TypeORM's own code was about 2% of the busy time, against about 4% for pg
    // itself and over 40% for socket writes; not worth a second way to reach the database.
    const inserted = await rows<{ id: string }>(
      this.db,
      `INSERT INTO webhook_events
         (id, type, api_version, livemode, event_created, received_at, payload, raw_body, status, attempts,
          updated_at, job_id)
       VALUES ${values.join(', ')}
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      params,
    );
    return inserted.map((row) => row.id);
  }
}
