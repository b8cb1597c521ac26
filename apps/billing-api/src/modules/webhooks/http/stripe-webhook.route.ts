import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Stripe from 'stripe';
import { ApiError } from '../../../platform/http/api-error.js';
import { sendError } from '../../../platform/http/http-exception.filter.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';
import { StoreStripeEvent } from '../commands/store-stripe-event.js';
import { WebhookMetrics } from '../webhook.metrics.js';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

/**
 * Stripe's webhook endpoint (R-WH-1, R-WH-2), served directly by Fastify rather than by a Nest
 * controller (issue 4: the intake is a hot path, and a profile spread the overhead of a controller over
 * the global guards, interceptors, pipes and rxjs, none of which applies here). What still applies are
 * the Fastify hooks: correlation id (x-request-id), CORS, the HTTP duration metric, Nest's body
 * parser (it keeps `request.rawBody` because the app is created with `rawBody: true`) and Nest's error
 * handler for Fastify's own errors (bad JSON, wrong content type, body too large).
 *
 * No JWT: the Stripe-Signature (checked against every secret of STRIPE_WEBHOOK_SECRETS, 300 s tolerance)
 * is the authentication. Never rate limited, never judged for card data (the body is Stripe's, verified
 * byte for byte). Errors leave in the one shape of the global filter (its `sendError`). Documented in
 * Swagger by `stripeWebhookOpenApi` (no controller: a route here and in Nest would clash).
 *
 * Registered when the process serves HTTP (roles api and all); a worker has no HTTP adapter.
 */
@Injectable()
export class StripeWebhookRoute implements OnModuleInit {
  private readonly logger = new Logger('WebhookIntake');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly gateway: StripeGateway,
    private readonly store: StoreStripeEvent,
    private readonly metrics: WebhookMetrics,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter as { getInstance?: () => unknown } | undefined;
    const fastify = adapter?.getInstance?.() as FastifyInstance | undefined;
    if (!fastify || typeof fastify.post !== 'function') return; // worker: no HTTP server
    // No helmet headers: they guide browsers, and Stripe's servers are the only caller of this route.
    // `verbatimBody`: the JSON parser's screens (strict UTF-8, depth, storable strings) leave this body to
    // its signature, so that a verified event is never refused for what Stripe put in it.
    fastify.post(
      STRIPE_WEBHOOK_PATH,
      { config: { helmet: { skipRoute: true }, verbatimBody: true } },
      (request, reply) => this.receive(request, reply),
    );
  }

  private async receive(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ received: true; duplicate: boolean } | FastifyReply> {
    const rawBody = (request as FastifyRequest & { rawBody?: Buffer }).rawBody;
    const signature = request.headers['stripe-signature'];
    let event: Stripe.Event;
    try {
      if (!rawBody) throw new Error('no raw body');
      event = this.gateway.verifyWebhook(rawBody, typeof signature === 'string' ? signature : undefined);
    } catch {
      this.metrics.signatureFailures.inc();
      // The source address only: never the payload or the signature.
      this.logger.warn({ msg: 'webhook signature verification failed', sourceIp: request.ip });
      return sendError(
        new ApiError('invalid_signature', 'The Stripe-Signature header does not verify.'),
        request,
        reply,
      );
    }
    try {
      const result = await this.store.execute(event, rawBody);
      return { received: true, duplicate: !result.stored };
    } catch (error) {
      // `service_unavailable` when the event could not be stored (Stripe retries); anything else is a
      // fault, rendered and logged as the global filter does.
      return sendError(error, request, reply);
    }
  }
}
