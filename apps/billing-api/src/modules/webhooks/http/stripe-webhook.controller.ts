import { Controller, Headers, HttpCode, Logger, Post, Req, type RawBodyRequest } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../../../platform/auth/auth.decorators.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { SkipCardDataCheck } from '../../../platform/http/decorators.js';
import { SkipRateLimit } from '../../../platform/http/rate-limit.guard.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';
import { StoreStripeEvent } from '../commands/store-stripe-event.js';
import { WebhookMetrics } from '../webhook.metrics.js';

/**
 * Stripe's webhook endpoint (R-WH-1, R-WH-2). No JWT: the Stripe-Signature (checked against every
 * secret of STRIPE_WEBHOOK_SECRETS, 300 s tolerance) is the authentication. Never rate limited, never
 * judged for card data (the body is Stripe's, verified byte for byte).
 */
@ApiTags('webhooks')
@Public()
@SkipRateLimit()
@SkipCardDataCheck()
@Controller('webhooks')
export class StripeWebhookController {
  private readonly logger = new Logger('WebhookIntake');

  constructor(
    private readonly gateway: StripeGateway,
    private readonly store: StoreStripeEvent,
    private readonly metrics: WebhookMetrics,
  ) {}

  @Post('stripe')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Receive a Stripe event (called by Stripe).',
    description:
      'Verifies the signature, stores the event in the inbox (unique event id) and queues it, then answers ' +
      '200. A duplicate delivery answers 200 and changes nothing. 400 `invalid_signature` when the signature ' +
      'does not verify (nothing stored); 503 when the event cannot be stored, so that Stripe retries.',
  })
  @ApiHeader({ name: 'stripe-signature', required: true, description: 'Set by Stripe.' })
  @ApiOkResponse({ schema: { example: { received: true, duplicate: false } } })
  @ApiErrors('invalid_signature', 'service_unavailable')
  async receive(
    @Req() request: RawBodyRequest<FastifyRequest>,
    @Headers('stripe-signature') signature: string | undefined,
  ): Promise<{ received: true; duplicate: boolean }> {
    const rawBody = request.rawBody;
    let event;
    try {
      if (!rawBody) throw new Error('no raw body');
      event = this.gateway.verifyWebhook(rawBody, signature);
    } catch {
      this.metrics.signatureFailures.inc();
      // The source address only: never the payload or the signature.
      this.logger.warn({ msg: 'webhook signature verification failed', sourceIp: request.ip });
      throw new ApiError('invalid_signature', 'The Stripe-Signature header does not verify.');
    }
    const result = await this.store.execute(event, rawBody);
    return { received: true, duplicate: !result.stored };
  }
}
