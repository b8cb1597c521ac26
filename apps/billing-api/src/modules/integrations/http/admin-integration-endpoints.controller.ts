import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiParam,
  ApiNoContentResponse,
} from '@nestjs/swagger';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Roles } from '../../../platform/auth/auth.decorators.js';
import { Clock } from '../../../platform/clock/clock.js';
import { AppConfig } from '../../../platform/config/app-config.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { INTEGRATION_EVENT_TYPES } from '../contracts/integration-event.js';
import { forbiddenTargetReason } from '../integration-target.js';
import {
  CreatedIntegrationEndpointDto,
  CreateIntegrationEndpointDto,
  type IntegrationDeliveryDto,
  IntegrationDeliveryListDto,
  type IntegrationEndpointDto,
  IntegrationEndpointListDto,
} from './dto/integration-endpoint.dto.js';

/** What an endpoint receives (Swagger), from the contract's list so the two cannot drift apart. */
const ENDPOINT_CONTRACT = [
  'Every endpoint receives every integration event as a JSON POST',
  '`{ id, type, created, accountId, data }`, with the headers `X-Billing-Event-Id`, `X-Billing-Event-Type`',
  'and `X-Billing-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>`.',
  'Any 2xx acknowledges it; anything else is retried with exponential backoff, and each',
  'attempt is in the delivery log. Delivery is at least once and unordered: dedupe by the event id, and',
  'order by `created` or re-read the payment. One event per status change (a payment may come back to a',
  'status, e.g. `failed` after a retried challenge, and is announced again); `data` carries',
  'the payment (`paymentId, status, previousStatus, amount, amountReceived, amountRefunded, currency,',
  'orderReference, stripePaymentIntentId, failureCode, declineCode`) or the refund (`refundId, paymentId,',
  'status, previousStatus, amount, currency, reason, failureReason, stripeRefundId`), amounts in minor',
  `units. Types: ${INTEGRATION_EVENT_TYPES.map((t) => `\`${t}\``).join(', ')}.`,
].join(' ');

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  created_at: Date;
}

const view = (r: EndpointRow): IntegrationEndpointDto => ({
  id: r.id,
  url: r.url,
  description: r.description,
  createdAt: new Date(r.created_at).toISOString(),
});

/** Admin API of the endpoints that receive integration events, and their delivery log. */
@ApiTags('integrations')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/admin/integration-endpoints')
export class AdminIntegrationEndpointsController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Add an endpoint (admin). Its secret signs every POST; shown only in this answer.',
    description: ENDPOINT_CONTRACT,
  })
  @ApiCreatedResponse({ type: CreatedIntegrationEndpointDto })
  @ApiErrors('unauthenticated', 'forbidden', 'validation_failed', 'integration_target_forbidden')
  async create(@Body() body: CreateIntegrationEndpointDto): Promise<CreatedIntegrationEndpointDto> {
    const refused = await forbiddenTargetReason(body.url, this.config.integrations.allowPrivateTargets);
    if (refused !== null) {
      throw new ApiError(
        'integration_target_forbidden',
        `The endpoint URL may not be used: ${refused}. Private targets need INTEGRATIONS_ALLOW_PRIVATE_TARGETS=true.`,
        { param: 'url' },
      );
    }
    const secret = body.secret ?? `whsec_${randomBytes(24).toString('hex')}`;
    const [row] = await this.db.query<EndpointRow[]>(
      `INSERT INTO integration_endpoints (id, url, secret, description, created_at)
       VALUES ($1, $2, $3, $4, $5) RETURNING id, url, description, created_at`,
      [randomUUID(), body.url, secret, body.description ?? null, this.clock.now()],
    );
    if (!row) throw new Error('endpoint not inserted');
    return { ...view(row), secret };
  }

  @Get()
  @ApiOperation({ summary: 'The active endpoints (admin); secrets are never listed.' })
  @ApiOkResponse({ type: IntegrationEndpointListDto })
  @ApiErrors('unauthenticated', 'forbidden')
  async list(): Promise<IntegrationEndpointListDto> {
    const rows = await this.db.query<EndpointRow[]>(
      `SELECT id, url, description, created_at FROM integration_endpoints WHERE deleted_at IS NULL ORDER BY created_at, id`,
    );
    return { data: rows.map(view) };
  }

  @Delete(':id')
  @ApiParam({ name: 'id', format: 'uuid', description: 'A UUID (anything else is a 400 validation_failed).' })
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove an endpoint (admin): it receives nothing more; its delivery log is kept.',
  })
  @ApiNoContentResponse({ description: 'Removed.' })
  @ApiErrors('unauthenticated', 'forbidden', 'not_found', 'validation_failed')
  async remove(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    const now = this.clock.now();
    const [, affected] = await this.db.query<[unknown[], number]>(
      `UPDATE integration_endpoints SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL`,
      [id, now],
    );
    if (affected === 0) throw new ApiError('not_found', 'No such endpoint.');
    await this.db.query(
      `UPDATE integration_deliveries SET status = 'failed', last_error = 'endpoint deleted', updated_at = $2
        WHERE endpoint_id = $1 AND status = 'pending'`,
      [id, now],
    );
  }

  @Get(':id/deliveries')
  @ApiParam({ name: 'id', format: 'uuid', description: 'A UUID (anything else is a 400 validation_failed).' })
  @ApiOperation({ summary: "An endpoint's delivery log, newest first (admin; last 100)." })
  @ApiOkResponse({ type: IntegrationDeliveryListDto })
  @ApiErrors('unauthenticated', 'forbidden', 'validation_failed')
  async deliveries(@Param('id', new ParseUUIDPipe()) id: string): Promise<IntegrationDeliveryListDto> {
    const rows = await this.db.query<
      {
        id: string;
        event_id: string;
        type: string;
        status: string;
        attempts: number;
        last_status_code: number | null;
        last_error: string | null;
        delivered_at: Date | null;
      }[]
    >(
      `SELECT d.id, d.event_id, e.type, d.status, d.attempts, d.last_status_code, d.last_error, d.delivered_at
         FROM integration_deliveries d JOIN integration_events e ON e.id = d.event_id
        WHERE d.endpoint_id = $1 ORDER BY d.created_at DESC, d.id LIMIT 100`,
      [id],
    );
    return {
      data: rows.map((r): IntegrationDeliveryDto => ({
        id: r.id,
        eventId: r.event_id,
        eventType: r.type,
        status: r.status,
        attempts: r.attempts,
        lastStatusCode: r.last_status_code,
        lastError: r.last_error,
        deliveredAt: r.delivered_at ? new Date(r.delivered_at).toISOString() : null,
      })),
    };
  }
}
