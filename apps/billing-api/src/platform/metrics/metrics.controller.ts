import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { SkipRateLimit } from '../http/rate-limit.guard.js';
import { MetricsRegistry } from './metrics.registry.js';

/**
 * Prometheus metrics (R-WH-7). Public like `/health` and never rate limited (a scraper must not be
 * turned away); it exposes counts and timings, no identifiers or payloads. Restrict it to the scraper at
 * the proxy or network level in production.
 */
@ApiTags('health')
@Public()
@SkipRateLimit()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics: process, HTTP durations, webhooks, queue depth, dead letters.',
    description:
      'Text exposition format 0.0.4. Includes `billing_http_request_duration_seconds` (method, route, status_code), ' +
      '`billing_webhooks_received_total` (type), `billing_webhooks_duplicates_total`, ' +
      '`billing_webhooks_signature_failures_total`, `billing_webhook_processing_lag_seconds` (processed_at - event created; ' +
      'observed by worker processes), `billing_queue_jobs` (queue, state: waiting/active/delayed/failed, read on scrape), ' +
      '`billing_webhook_dead_letters` (dead inbox rows, read on scrape) and the default process metrics. ' +
      'Worker processes serve the same document on METRICS_PORT when it is set.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format.', schema: { type: 'string' } })
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    await reply.header('content-type', contentType).send(body);
  }
}
