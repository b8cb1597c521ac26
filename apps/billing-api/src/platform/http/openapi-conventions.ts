import type { OpenAPIObject } from '@nestjs/swagger';

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

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
  for (const [path, item] of Object.entries(document.paths)) {
    for (const operation of Object.values(item as Record<string, { responses?: Record<string, Response> }>)) {
      for (const [status, response] of Object.entries(operation?.responses ?? {})) {
        if (Number(status) < 400 || !response.content) continue;
        const isError = Object.values(response.content).some((c) => c.schema?.$ref === ERROR_SCHEMA_REF);
        if (isError) response.content = { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } };
      }
    }
    if (!path.startsWith('/v1/')) continue;
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
