import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiError } from '../../../platform/http/api-error.js';
import { decodeCursor, type Page, toPage } from '../../../platform/http/pagination.js';
import type { WebhookEventSummaryView, WebhookEventView } from '../contracts/webhook-event.view.js';
import {
  WEBHOOK_EVENT_STATUSES,
  WebhookEventOrmEntity,
  type WebhookEventStatus,
} from '../persistence/webhook-event.orm-entity.js';

export interface WebhookEventFilter {
  type?: string | undefined;
  status?: WebhookEventStatus | undefined;
  createdFrom?: Date | undefined;
  createdTo?: Date | undefined;
  receivedFrom?: Date | undefined;
  receivedTo?: Date | undefined;
}

/** Reads of the inbox for the admin API (newest received first, stable by id). */
@Injectable()
export class WebhookEventQueries {
  constructor(
    @InjectRepository(WebhookEventOrmEntity) private readonly repository: Repository<WebhookEventOrmEntity>,
  ) {}

  async list(
    filter: WebhookEventFilter,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<Page<WebhookEventSummaryView>> {
    const after = decodeCursor(options.cursor, { value: 'instant', id: 'text' });
    const qb = this.repository
      .createQueryBuilder('e')
      .select([
        'e.id',
        'e.type',
        'e.status',
        'e.outcome',
        'e.attempts',
        'e.apiVersion',
        'e.livemode',
        'e.eventCreated',
        'e.receivedAt',
        'e.processedAt',
        'e.lastError',
      ])
      .orderBy('e.received_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .limit(options.limit + 1);
    if (filter.type) qb.andWhere('e.type = :type', { type: filter.type });
    if (filter.status) qb.andWhere('e.status = :status', { status: filter.status });
    if (filter.createdFrom) qb.andWhere('e.event_created >= :cf', { cf: filter.createdFrom });
    if (filter.createdTo) qb.andWhere('e.event_created < :ct', { ct: filter.createdTo });
    if (filter.receivedFrom) qb.andWhere('e.received_at >= :rf', { rf: filter.receivedFrom });
    if (filter.receivedTo) qb.andWhere('e.received_at < :rt', { rt: filter.receivedTo });
    if (after) qb.andWhere('(e.received_at, e.id) < (:at, :id)', { at: new Date(after.value), id: after.id });
    const found = await qb.getMany();
    return toPage(found.map(toSummary), options.limit, (v) => ({ value: v.receivedAt, id: v.id }));
  }

  async get(id: string): Promise<WebhookEventView> {
    const row = await this.repository.findOne({ where: { id } });
    if (!row) throw new ApiError('not_found', `No webhook event ${id}.`);
    return { ...toSummary(row), payload: row.payload };
  }

  async countsByStatus(): Promise<Record<WebhookEventStatus, number>> {
    const found = await this.repository
      .createQueryBuilder('e')
      .select('e.status', 'status')
      .addSelect('count(*)::int', 'n')
      .groupBy('e.status')
      .getRawMany<{ status: WebhookEventStatus; n: number }>();
    const counts = Object.fromEntries(WEBHOOK_EVENT_STATUSES.map((s) => [s, 0])) as Record<
      WebhookEventStatus,
      number
    >;
    for (const row of found) counts[row.status] = Number(row.n);
    return counts;
  }
}

function toSummary(row: WebhookEventOrmEntity): WebhookEventSummaryView {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    outcome: row.outcome,
    attempts: row.attempts,
    apiVersion: row.apiVersion,
    livemode: row.livemode,
    created: row.eventCreated.toISOString(),
    receivedAt: row.receivedAt.toISOString(),
    processedAt: row.processedAt ? row.processedAt.toISOString() : null,
    lastError: row.lastError,
  };
}
