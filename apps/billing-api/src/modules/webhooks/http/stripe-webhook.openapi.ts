import {
  getSchemaPath,
  type OpenAPIObject,
  type PathItemObject,
  type ResponsesObject,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../../../platform/http/api-errors.decorator.js';
import { API_ERROR_STATUS, type ApiErrorCode } from '../../../platform/http/error-codes.js';
import { STRIPE_WEBHOOK_PATH } from './stripe-webhook.route.js';

/**
 * The Swagger entry of `POST /webhooks/stripe`. The route is served by Fastify directly
 * (`StripeWebhookRoute`), so no controller describes it: this is what the controller's decorators
 * produced (summary, description, header, 200 example), with the error responses it can actually give:
 * no JWT and no rate limit apply, so neither 401 nor 429.
 */
export function stripeWebhookOpenApi(): PathItemObject {
  const errors: ApiErrorCode[] = ['invalid_signature', 'service_unavailable', 'internal_error'];
  const responses: ResponsesObject = {
    '200': {
      description: '',
      content: { 'application/json': { schema: { example: { received: true, duplicate: false } } } },
    },
  };
  for (const code of errors) {
    const status = String(API_ERROR_STATUS[code]);
    const listed = responses[status] as { description: string } | undefined;
    responses[status] = {
      description: listed ? `${listed.description}, \`${code}\`` : `Error codes: \`${code}\``,
      content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorResponseDto) } } },
    };
  }
  return {
    post: {
      tags: ['webhooks'],
      // The id the controller had, so that generated clients keep their method name.
      operationId: 'StripeWebhookController_receive',
      summary: 'Receive a Stripe event (called by Stripe).',
      description:
        'Verifies the signature, stores the event in the inbox (unique event id) and queues it, then answers ' +
        '200. A duplicate delivery answers 200 and changes nothing. 400 `invalid_signature` when the signature ' +
        'does not verify (nothing stored); 503 when the event cannot be stored, so that Stripe retries.',
      parameters: [
        {
          name: 'stripe-signature',
          in: 'header',
          required: true,
          description: 'Set by Stripe.',
          schema: { type: 'string' },
        },
      ],
      responses,
    },
  };
}

/** Adds the intake to a document built from the controllers (its error schema is an extra model there). */
export function documentStripeWebhook(document: OpenAPIObject): OpenAPIObject {
  document.paths[STRIPE_WEBHOOK_PATH] = stripeWebhookOpenApi();
  return document;
}
