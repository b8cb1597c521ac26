import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { createHash } from 'node:crypto';
import { rows } from '../../../platform/database/row-sql.js';
import {
  mayHoldUnstorableEscape,
  storableJson,
  storableString,
} from '../../../platform/database/storable-json.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { InboxWriter, type InboxWriteResult } from '../persistence/inbox-writer.js';
import { WebhookMetrics } from '../webhook.metrics.js';

export type StoreResult = InboxWriteResult;

/** The latest `created` taken as a time (9999-12-31T23:59:59Z); beyond it PostgreSQL or sense refuses. */
const MAX_CREATED = 253_402_300_799;
const MAX_ID_LENGTH = 255;

/**
 * Why a verified body is not an event the inbox can key and order, or null when it is: an object with a
 * string `id` and `type` (1-255 characters) and an integer `created` in seconds between 1970 and 9999.
 */
export function malformedEvent(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const event = value as Record<string, unknown>;
  for (const field of ['id', 'type'] as const) {
    const v = event[field];
    if (typeof v !== 'string' || v.length === 0) return `no ${field}`;
    if (v.length > MAX_ID_LENGTH) return `${field} longer than ${MAX_ID_LENGTH} characters`;
  }
  const created = event.created;
  if (typeof created !== 'number' || !Number.isSafeInteger(created)) return 'no integer created';
  if (created < 0 || created > MAX_CREATED) return 'created out of range';
  return null;
}

/**
 * The hot path of the intake (R-WH-2, R-CORE-8): the event goes into the inbox through the inbox writer's
 * group commit (one INSERT ... ON CONFLICT DO NOTHING and one enqueue, with a short timeout, for the events
 * verified meanwhile). Nothing is acknowledged unless the INSERT committed (PostgreSQL down -> 503 so
 * Stripe retries); Redis down only delays processing (the sweeper enqueues the row).
 */
@Injectable()
export class StoreStripeEvent {
  private readonly logger = new Logger('WebhookIntake');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly writer: InboxWriter,
    private readonly metrics: WebhookMetrics,
  ) {}

  async execute(event: Stripe.Event, rawBody: Buffer): Promise<StoreResult> {
    const malformed = malformedEvent(event);
    if (malformed) return this.deadLetter(event, rawBody, malformed);
    const text = rawBody.toString('utf8');
    // A string PostgreSQL cannot hold (U+0000, a lone surrogate: escapes in the JSON) is stored with those
    // characters replaced, and the exact bytes beside it (`raw_body`): still a verified event, applied.
    const escaped = mayHoldUnstorableEscape(text);
    const id = escaped ? storableString(event.id) : event.id;
    const type = escaped ? storableString(event.type) : event.type;
    const apiVersion = typeof event.api_version === 'string' ? event.api_version : null;
    let result: StoreResult;
    try {
      // The verified raw body is stored as is (PostgreSQL parses it once as jsonb), in the inbox writer's
      // group commit with the events verified meanwhile.
      result = await this.writer.write({
        id,
        type,
        apiVersion: escaped && apiVersion !== null ? storableString(apiVersion) : apiVersion,
        livemode: event.livemode === true,
        created: event.created,
        payload: escaped ? storableJson(event).text : text,
        rawBody: escaped ? rawBody : null,
      });
    } catch (error) {
      this.logger.error({
        msg: 'webhook could not be stored; answering 503 so Stripe retries',
        eventId: event.id,
        type: event.type,
        error: error instanceof Error ? error.message : String(error),
      });
      throw new ApiError('service_unavailable', 'The event could not be stored; retry later.');
    }
    if (result.stored) this.metrics.received.inc({ type });
    else this.metrics.duplicates.inc({ type });
    return result;
  }

  /**
   * A verified body that is not an event the inbox can key and order (`malformedEvent`): dead-lettered
   * at once with its reason and its exact bytes, under an id made from them (`malformed_<sha-256>`, so
   * that Stripe's retries of it are duplicates), and acknowledged: Stripe would retry it for days and
   * then disable the endpoint. An operator reads it in the admin API; replayed, no handler takes it.
   */
  private async deadLetter(event: unknown, rawBody: Buffer, reason: string): Promise<StoreResult> {
    const now = this.clock.now();
    const id = `malformed_${createHash('sha256').update(rawBody).digest('hex')}`;
    let inserted: unknown[];
    try {
      inserted = await rows(
        this.db,
        `INSERT INTO webhook_events
           (id, type, api_version, livemode, event_created, received_at, payload, raw_body, status, attempts,
            last_error, updated_at)
         VALUES ($1, 'malformed', NULL, false, $2, $2, $3::jsonb, $4, 'dead', 0, $5, $2)
         ON CONFLICT (id) DO NOTHING
         RETURNING id`,
        [id, now, storableJson(event).text, rawBody, `malformed event: ${reason}`],
      );
    } catch (error) {
      this.logger.error({
        msg: 'malformed webhook could not be dead-lettered; answering 503 so Stripe retries',
        eventId: id,
        error: error instanceof Error ? error.message : String(error),
      });
      throw new ApiError('service_unavailable', 'The event could not be stored; retry later.');
    }
    if (inserted.length === 0) {
      this.metrics.duplicates.inc({ type: 'malformed' });
      return { stored: false, duplicate: true };
    }
    this.metrics.received.inc({ type: 'malformed' });
    this.logger.error({
      msg: 'malformed webhook dead-lettered',
      alert: 'webhook_malformed',
      eventId: id,
      reason,
    });
    return { stored: true, queued: false };
  }
}
