import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as Pino } from 'pino';
import { documentStripeWebhook } from './modules/webhooks/http/stripe-webhook.openapi.js';
import type { AppConfig } from './platform/config/app-config.js';
import { ErrorResponseDto } from './platform/http/api-errors.decorator.js';
import { ApiError } from './platform/http/api-error.js';
import { registerCors } from './platform/http/cors.js';
import {
  HELMET_OPTIONS,
  registerSecurityHeaders,
  securityHeaders,
} from './platform/http/security-headers.js';
import { sendError } from './platform/http/http-exception.filter.js';
import { createJsonBodyParser, registerRequestScreens } from './platform/http/request-screen.js';
import { routeTable } from './platform/http/route-table.js';
import { documentApiConventions } from './platform/http/openapi-conventions.js';
import { correlationIdFrom, RequestContext } from './platform/context/request-context.js';
import { mountQueueBoard } from './platform/queue/queue-board.js';

/**
 * Fastify rather than Express: on this hardware Nest on Fastify answered about four times as many small
 * JSON requests per second (issue 4 measurements), and webhook intake and payment creation are hot paths.
 */
/** `trustProxy`: take the client address from X-Forwarded-For (behind a load balancer; rate limits per IP). */
export function createHttpAdapter(logger: Pino, trustProxy = false): FastifyAdapter {
  const adapter: FastifyAdapter = new FastifyAdapter({
    // The router refuses a URL it cannot decode (400) or a parameter over its length limit (414) before
    // any hook runs. Nest's own handler sends Fastify's error shape; this one sends ours, after the
    // security headers Nest's handler adds (its `securityHook`).
    frameworkErrors: (_error: Error, request: FastifyRequest, reply: FastifyReply) => {
      try {
        (adapter as unknown as { securityHook?: (req: unknown, res: unknown) => void }).securityHook?.(
          request,
          reply.raw,
        );
      } catch {
        // the request is refused either way
      }
      void sendError(
        new ApiError(
          'validation_failed',
          'The URL could not be read: a malformed percent-escape, or a path parameter longer than allowed.',
          { param: '(path)' },
        ),
        request,
        reply,
      );
    },
    loggerInstance: logger,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      correlationIdFrom(req.headers['x-request-id']),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    trustProxy,
  });
  return adapter;
}

/** Everything the HTTP process needs beyond the modules: context, headers, CORS, docs. */
export async function configureHttpApp(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();

  // CORS first, where Nest's adapter ran `app.enableCors()`'s hook: a preflight is answered before
  // anything else looks at the request (decided once per origin: see registerCors).
  registerCors(fastify, {
    origins: config.http.corsOrigins,
    credentials: true,
    exposedHeaders: ['x-request-id', 'idempotent-replayed', 'retry-after'],
  });
  // Correlation id (R-API-7): taken from x-request-id when well formed, echoed on every response, and
  // carried through the request's async work.
  fastify.addHook('onRequest', (request, _reply, done) => {
    RequestContext.run({ correlationId: String(request.id), actor: { type: 'system', id: null } }, done);
  });
  // Card numbers in the path or headers, empty and unstorable query values, 405s (R-CORE-6, R-CORE-10).
  routeTable.watch(fastify);
  registerRequestScreens(fastify, (error, request, reply) => sendError(error, request, reply));
  app.useBodyParser(
    'application/json',
    { bodyLimit: fastify.initialConfig.bodyLimit },
    createJsonBodyParser(fastify),
  );
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', String(request.id));
    // Time spent waiting on Stripe, so that clients and benchmarks can tell it from our own (seed 001).
    const stripeMs = RequestContext.current()?.stripeMs;
    if (stripeMs !== undefined) void reply.header('server-timing', `stripe;dur=${stripeMs.toFixed(1)}`);
  });
  // Helmet's headers, with a policy that lets Swagger UI (/docs) and Bull Board (/admin/queues) run:
  // their own scripts and styles (some inline) and data: images. Without `upgrade-insecure-requests`:
  // it makes browsers fetch every asset over https, so over plain HTTP on any host but localhost (a LAN
  // address, a container's name) both pages stayed blank. Terminate TLS in front of the service in
  // production; HSTS (helmet's default) then keeps browsers on https. Computed once by Helmet itself,
  // set on every response but Stripe's webhook route (see securityHeaders).
  registerSecurityHeaders(fastify, securityHeaders(HELMET_OPTIONS));
  app.enableShutdownHooks();

  if (config.http.swaggerEnabled) setupSwagger(app);
  await mountQueueBoard(app);
}

/**
 * The document from the controllers, plus `POST /webhooks/stripe`: that route is served by Fastify
 * directly (outside Nest's guard chain, issue 4), so no controller describes it.
 */
export function setupSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Billing service API')
      .setDescription(
        'Payments, subscriptions, refunds and billing administration on Stripe. Amounts are integer minor units (`amount: 5000` is $50.00). Mutating requests accept `Idempotency-Key`. Errors have one shape: `{ "error": { "code", "message", "param", "request_id" } }`. A response that waited on Stripe carries `Server-Timing: stripe;dur=<ms>`.',
      )
      .setVersion('1')
      .setLicense('MIT', 'https://opensource.org/licenses/MIT')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
    { extraModels: [ErrorResponseDto] },
  );
  documentStripeWebhook(document);
  withoutQueryExamples(document);
  documentApiConventions(document);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

type OpenApiDocument = ReturnType<typeof SwaggerModule.createDocument>;

/**
 * Swagger UI's "Try it out" fills every parameter with its example, so a list's optional filters went out
 * set (`status=succeeded,refunded&currency=usd&...`) and the list came back empty. Query parameters keep
 * their examples in the description ("e.g. ...") instead, and the fields start blank.
 */
export function withoutQueryExamples(document: OpenApiDocument): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.get, item.post, item.put, item.patch, item.delete]) {
      for (const parameter of operation?.parameters ?? []) {
        if (!('in' in parameter) || parameter.in !== 'query') continue;
        const schema = parameter.schema && !('$ref' in parameter.schema) ? parameter.schema : undefined;
        const example: unknown = parameter.example ?? schema?.example;
        delete parameter.example;
        delete parameter.examples;
        if (schema) delete schema.example;
        if (example !== undefined && example !== null) {
          const shown = typeof example === 'string' ? example : JSON.stringify(example);
          parameter.description = [parameter.description, `e.g. \`${shown}\``].filter(Boolean).join(' ');
        }
      }
    }
  }
}
