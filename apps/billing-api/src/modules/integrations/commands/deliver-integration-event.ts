import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { AppConfig } from '../../../platform/config/app-config.js';
import type { IntegrationEventBody, IntegrationEventType } from '../contracts/integration-event.js';
import { forbiddenTargetReason } from '../integration-target.js';
import { signPayload } from '../signature.js';

export type DeliveryResult = 'delivered' | 'already_done' | 'missing' | 'failed';

const TIMEOUT_MS = 10_000;

interface DeliveryRow {
  id: string;
  status: 'pending' | 'delivered' | 'failed';
  url: string;
  secret: string;
  event_id: string;
  type: IntegrationEventType;
  account_id: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

/**
 * POSTs one event to one endpoint, signed (`X-Billing-Signature`), and logs the attempt. A 2xx marks the
 * delivery delivered; anything else is recorded and thrown for Bull's backoff, and the last attempt
 * marks it failed. Delivery is at least once: receivers dedupe by `X-Billing-Event-Id`.
 */
@Injectable()
export class DeliverIntegrationEvent {
  private readonly logger = new Logger('Integrations');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async execute(deliveryId: string, options: { lastAttempt: boolean }): Promise<DeliveryResult> {
    const [row] = await this.db.query<DeliveryRow[]>(
      `SELECT d.id, d.status, p.url, p.secret, e.id AS event_id, e.type, e.account_id, e.payload, e.created_at
         FROM integration_deliveries d
         JOIN integration_endpoints p ON p.id = d.endpoint_id
         JOIN integration_events e ON e.id = d.event_id
        WHERE d.id = $1`,
      [deliveryId],
    );
    if (!row) return 'missing';
    if (row.status !== 'pending') return 'already_done';
    const body: IntegrationEventBody = {
      id: row.event_id,
      type: row.type,
      created: new Date(row.created_at).toISOString(),
      accountId: row.account_id,
      data: row.payload,
    };
    const json = JSON.stringify(body);
    const started = this.clock.now();
    const timestamp = Math.floor(started.getTime() / 1000);
    let statusCode: number | null = null;
    let error: string | null = null;
    const t0 = performance.now();
    try {
      // Again at each delivery: the name may resolve to an internal address by now (DNS rebinding).
      const refused = await forbiddenTargetReason(row.url, this.config.integrations.allowPrivateTargets);
      if (refused !== null) throw new Error(`target refused: ${refused}`);
      const response = await fetch(row.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'billing-integrations/1',
          'x-billing-event-id': row.event_id,
          'x-billing-event-type': row.type,
          'x-billing-signature': signPayload(row.secret, json, timestamp),
        },
        body: json,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      statusCode = response.status;
      await response.arrayBuffer().catch(() => undefined);
      if (response.status < 200 || response.status >= 300) error = `HTTP ${response.status}`;
    } catch (e) {
      error = (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 2000);
    }
    const durationMs = Math.round(performance.now() - t0);
    const now = this.clock.now();
    await this.db.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO integration_delivery_attempts (delivery_id, attempted_at, status_code, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5)`,
        [deliveryId, started, statusCode, error, durationMs],
      );
      await manager.query(
        `UPDATE integration_deliveries
            SET attempts = attempts + 1, last_status_code = $2, last_error = $3, updated_at = $4,
                status = CASE WHEN $3::text IS NULL THEN 'delivered' WHEN $5 THEN 'failed' ELSE status END,
                delivered_at = CASE WHEN $3::text IS NULL THEN $4 ELSE delivered_at END
          WHERE id = $1 AND status = 'pending'`,
        [deliveryId, statusCode, error, now, options.lastAttempt],
      );
    });
    if (error === null) return 'delivered';
    if (options.lastAttempt) {
      this.logger.error({
        msg: 'integration delivery failed for good',
        alert: 'integration_delivery_failed',
        deliveryId,
        error,
      });
      return 'failed';
    }
    throw new Error(`delivery ${deliveryId} to ${row.url} failed: ${error}`);
  }
}
