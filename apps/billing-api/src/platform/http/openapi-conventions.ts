import type { OpenAPIObject } from '@nestjs/swagger';
import { API_ERROR_STATUS, type ApiErrorCode } from './error-codes.js';

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);
const METHODS = new Set(['get', ...MUTATING]);

/** The format the idempotency interceptor accepts (platform/idempotency: 1-255 printable ASCII). */
export const IDEMPOTENCY_KEY_SCHEMA = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^[\\x21-\\x7E]+$',
} as const;

const IDEMPOTENCY_KEY_DESCRIPTION =
  'A unique key per logical operation (1-255 printable ASCII characters). Retrying with the same key and body replays the first response; the same key with another body is a 409 idempotency_key_reused. Keys are kept for 24 hours.';

const ERROR_SCHEMA_REF = '#/components/schemas/ErrorResponseDto';

interface Response {
  content?: Record<string, { schema?: { $ref?: string } }>;
}

interface DocumentedOperation {
  requestBody?: unknown;
  responses?: Record<string, Response & { description?: string }>;
}

/**
 * The refusals of the request screens (request-screen.ts) and of the validation pipe, which any `/v1`
 * operation may answer: a card number in the path or a header, an unstorable string in the query; and
 * for a JSON body, bytes that are not UTF-8 and nesting past the limit.
 */
function documentRequestScreens(
  operation: DocumentedOperation,
  method: string,
  hasPathParameters: boolean,
): void {
  const codes: ApiErrorCode[] = ['validation_failed', 'card_data_forbidden'];
  if (operation.requestBody) codes.push('invalid_encoding', 'body_too_deep');
  // The idempotency interceptor takes a key on every mutating route (see documentApiConventions).
  if (MUTATING.has(method)) {
    codes.push(
      'idempotency_key_invalid',
      'idempotency_key_reused',
      'idempotency_request_in_progress',
      'idempotency_key_in_use',
    );
  }
  // A path whose parameter is empty names no route.
  if (hasPathParameters) codes.push('not_found');
  for (const code of codes) documentCode(operation, code);
}

/** Adds `code` to the documented error response of its status, creating the response when missing. */
function documentCode(operation: DocumentedOperation, code: ApiErrorCode): void {
  const status = String(API_ERROR_STATUS[code]);
  const responses = (operation.responses ??= {});
  const existing = responses[status];
  if (!existing) {
    responses[status] = {
      description: `Error codes: \`${code}\``,
      content: { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } },
    };
    return;
  }
  const listed = existing.description ?? '';
  if (!listed.includes(`\`${code}\``)) {
    existing.description = `${listed}${listed ? ', ' : 'Error codes: '}\`${code}\``;
  }
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Record<string, unknown>;
}

/**
 * What holds for every operation, written into the document once (R-API-1): errors are JSON in the one
 * shape whatever a route produces when it succeeds (a PDF, an HTML page: `@ApiProduces` would otherwise
 * list the error schema under its media type); every mutating `/v1` route honours `Idempotency-Key` (the
 * interceptor takes it on any POST/PUT/PATCH/DELETE), with its format, required where the route says so.
 */
export function documentApiConventions(document: OpenAPIObject): void {
  // The document is served by the service it describes: its server is relative, wherever it is mounted.
  if (!document.servers || document.servers.length === 0) {
    document.servers = [{ url: '/', description: 'The service serving this document.' }];
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, { security?: unknown[] }>)) {
      // An operation without a bearer requirement is public (health, metrics, unsubscribe links, Stripe's
      // signed webhooks): said explicitly, so that a route that forgot its requirement stands out.
      if (METHODS.has(method) && operation.security === undefined) operation.security = [];
    }
    for (const operation of Object.values(item as Record<string, { responses?: Record<string, Response> }>)) {
      for (const [status, response] of Object.entries(operation?.responses ?? {})) {
        if (Number(status) < 400 || !response.content) continue;
        const isError = Object.values(response.content).some((c) => c.schema?.$ref === ERROR_SCHEMA_REF);
        if (isError) response.content = { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } };
      }
    }
    if (!path.startsWith('/v1/')) continue;
    for (const [method, operation] of Object.entries(item as Record<string, DocumentedOperation>)) {
      if (METHODS.has(method)) documentRequestScreens(operation, method, path.includes('{'));
    }
    for (const [method, operation] of Object.entries(item as Record<string, { parameters?: Parameter[] }>)) {
      if (!MUTATING.has(method)) continue;
      const parameters = (operation.parameters ??= []);
      const existing = parameters.find(
        (p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key',
      );
      if (existing) {
        existing.schema = { ...IDEMPOTENCY_KEY_SCHEMA };
        existing.description ??= IDEMPOTENCY_KEY_DESCRIPTION;
        existing.required = existing.required === true;
      } else {
        parameters.push({
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: IDEMPOTENCY_KEY_DESCRIPTION,
          schema: { ...IDEMPOTENCY_KEY_SCHEMA },
        });
      }
    }
  }
}
