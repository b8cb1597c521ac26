import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { API_ERROR_STATUS, isApiErrorCode } from '../../apps/billing-api/src/platform/http/error-codes.js';
import { http, startTestApp, type TestApp } from '../support/test-app.js';

interface Response {
  description?: string;
  content?: Record<string, { schema?: { $ref?: string } }>;
}
interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: Record<string, unknown> }[];
  responses: Record<string, Response>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
const ERROR_SCHEMA = '#/components/schemas/ErrorResponseDto';

/** The codes an error response of the document lists (`Error codes: \`a\`, \`b\``), by HTTP status. */
function codesOf(op: Operation): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [status, response] of Object.entries(op.responses)) {
    if (Number(status) < 400) continue;
    const codes = [...(response.description ?? '').matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1] ?? '');
    out.set(Number(status), codes);
  }
  return out;
}

// R-API-1 / R-API-3: every endpoint documents its error codes, in the one error shape.
describe('Swagger document: error responses of every /v1 operation', () => {
  let t: TestApp;
  let doc: Document;
  const operations: [string, Operation][] = [];

  beforeAll(async () => {
    t = await startTestApp({ role: 'api' });
    const res = await http<Document>(t.url, 'GET', '/docs-json');
    if (res.status !== 200) throw new Error(`/docs-json answered ${res.status}`);
    doc = res.body;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, op] of Object.entries(item)) {
        if (METHODS.has(method)) operations.push([`${method.toUpperCase()} ${path}`, op]);
      }
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('finds the operations (a guard against an empty document passing everything below)', () => {
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'POST /v1/payments',
        'POST /v1/payment-methods/setup-intents',
        'POST /v1/payments/{id}/refunds',
      ]),
    );
    expect(doc.components.schemas.ErrorResponseDto).toBeDefined();
  });

  it('documents at least one 4xx for every operation, each error response with the standard schema', () => {
    const lacking: string[] = [];
    for (const [name, op] of operations) {
      const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
      if (!errors.some(([status]) => Number(status) < 500)) lacking.push(`${name}: no 4xx`);
      for (const [status, response] of errors) {
        const schemas = Object.values(response.content ?? {}).map((c) => c.schema?.$ref);
        if (schemas.length === 0 || schemas.some((ref) => ref !== ERROR_SCHEMA)) {
          lacking.push(`${name} ${status}: not the error schema`);
        }
      }
    }
    expect(lacking).toEqual([]);
  });

  it('lists only real codes, each under its own HTTP status', () => {
    const wrong: string[] = [];
    for (const [name, op] of operations) {
      for (const [status, codes] of codesOf(op)) {
        if (codes.length === 0) wrong.push(`${name} ${status}: no code listed`);
        for (const code of codes) {
          if (!isApiErrorCode(code)) wrong.push(`${name} ${status}: unknown code ${code}`);
          else if (Number(API_ERROR_STATUS[code]) !== status)
            wrong.push(`${name} ${status}: ${code} is elsewhere`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('documents the idempotency refusals wherever Idempotency-Key is taken', () => {
    const lacking: string[] = [];
    for (const [name, op] of operations) {
      if (!op.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key')) continue;
      const all = [...codesOf(op).values()].flat();
      for (const code of ['idempotency_key_invalid', 'idempotency_key_reused'])
        if (!all.includes(code)) lacking.push(`${name}: ${code}`);
    }
    expect(lacking).toEqual([]);
  });

  it('POST /v1/payments documents the provider being down or throttling us (503)', () => {
    const op = doc.paths['/v1/payments']?.post;
    if (!op) throw new Error('POST /v1/payments is not documented');
    expect(codesOf(op).get(503)).toEqual(
      expect.arrayContaining(['payment_provider_unavailable', 'payment_provider_rate_limited']),
    );
  });

  it('the Stripe-calling payment-method routes document the provider failures', () => {
    for (const [path, method] of [
      ['/v1/payment-methods/setup-intents', 'post'],
      ['/v1/payment-methods/{id}/default', 'post'],
      ['/v1/payment-methods/{id}', 'delete'],
    ] as const) {
      const op = doc.paths[path]?.[method];
      if (!op) throw new Error(`${method} ${path} is not documented`);
      expect([...codesOf(op).values()].flat()).toEqual(
        expect.arrayContaining([
          'payment_provider_unavailable',
          'payment_provider_rate_limited',
          'payment_provider_error',
        ]),
      );
    }
  });
  it('the invoice routes: the page limit, the PDF content type, the Stripe read failures', () => {
    const list = doc.paths['/v1/invoices']?.get;
    if (!list) throw new Error('GET /v1/invoices is not documented');
    const parameters = (list.parameters ?? []) as {
      name: string;
      schema?: { minimum?: number; maximum?: number };
    }[];
    expect(parameters.find((p) => p.name === 'limit')?.schema).toMatchObject({ minimum: 1, maximum: 100 });
    expect(parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['cursor', 'status', 'createdFrom', 'createdTo', 'accountId']),
    );
    const pdf = doc.paths['/v1/invoices/{id}.pdf']?.get;
    if (!pdf) throw new Error('GET /v1/invoices/{id}.pdf is not documented');
    expect(Object.keys(pdf.responses['200']?.content ?? {})).toEqual(['application/pdf']);
    for (const op of [pdf, doc.paths['/v1/invoices/{id}']?.get]) {
      if (!op) throw new Error('GET /v1/invoices/{id} is not documented');
      expect(codesOf(op).get(404)).toEqual(['not_found']);
      expect([...codesOf(op).values()].flat()).toEqual(
        expect.arrayContaining([
          'forbidden',
          'payment_provider_unavailable',
          'payment_provider_rate_limited',
        ]),
      );
    }
  });

  // Issue 16 (8): the document says what the service does.
  it('documents the UUID path ids as UUIDs', () => {
    for (const [path, method, name] of [
      ['/v1/accounts/{accountId}', 'get', 'accountId'],
      ['/v1/accounts/{accountId}', 'patch', 'accountId'],
      ['/v1/accounts/{accountId}/members', 'get', 'accountId'],
      ['/v1/accounts/{accountId}/audit-log', 'get', 'accountId'],
      ['/v1/accounts/{accountId}/notification-preferences', 'get', 'accountId'],
      ['/v1/payments/{paymentId}/receipt', 'get', 'paymentId'],
      ['/v1/payments/{paymentId}/receipt.pdf', 'get', 'paymentId'],
      ['/v1/admin/integration-endpoints/{id}', 'delete', 'id'],
      ['/v1/admin/integration-endpoints/{id}/deliveries', 'get', 'id'],
    ] as const) {
      const param = doc.paths[path]?.[method]?.parameters?.find((p) => p.in === 'path' && p.name === name);
      expect({ path, method, schema: param?.schema }).toEqual({
        path,
        method,
        schema: expect.objectContaining({ type: 'string', format: 'uuid' }),
      });
    }
  });

  it('documents Idempotency-Key with its format on every mutating route, required where money moves', () => {
    const required = new Set([
      'POST /v1/payments',
      'POST /v1/payments/{id}/refunds',
      'POST /v1/admin/accounts',
    ]);
    const wrong: string[] = [];
    for (const [name, op] of operations) {
      if (name.startsWith('GET ')) continue;
      const key = op.parameters?.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
      if (!key) wrong.push(`${name}: no Idempotency-Key`);
      else {
        // The routes that move money require the key (the service answers 400 idempotency_key_required).
        if (required.has(name) && key.required !== true) wrong.push(`${name}: documented optional`);
        if (key.schema?.maxLength !== 255 || typeof key.schema.pattern !== 'string')
          wrong.push(`${name}: no format`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('documents errors as JSON, also where the success is a PDF or an HTML page', () => {
    for (const [path, method] of [
      ['/v1/payments/{paymentId}/receipt.pdf', 'get'],
      ['/v1/notifications/unsubscribe', 'get'],
      ['/v1/notifications/unsubscribe', 'post'],
    ] as const) {
      const op = doc.paths[path]?.[method];
      if (!op) throw new Error(`${method} ${path} is not documented`);
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        expect({ path, status, media: Object.keys(response.content ?? {}) }).toEqual({
          path,
          status,
          media: ['application/json'],
        });
      }
    }
    expect(
      Object.keys(doc.paths['/v1/notifications/unsubscribe']?.post?.responses['200']?.content ?? {}),
    ).toEqual(['application/json', 'text/html']);
  });
});
