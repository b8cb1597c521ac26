import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';

/**
 * An OpenAPI-driven request generator and response checker (issue 16): requests for every operation of
 * the document, built from its schemas (valid ones, and invalid ones made by breaking a valid one), and
 * the check that an answer is one the document promises, in the schema it documents.
 */

export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  nullable?: boolean;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface MediaType {
  schema?: Schema;
}

export interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

export interface FuzzOperation {
  method: string;
  path: string;
  op: Operation;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function operationsOf(doc: OpenApiDocument): FuzzOperation[] {
  const out: FuzzOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) out.push({ method: method.toUpperCase(), path, op });
    }
  }
  return out;
}

/** Values of the world the fuzzer runs in (ids that exist), offered for parameters and fields by name. */
export type KnownValues = Record<string, readonly unknown[]>;

export interface FuzzRequest {
  operation: FuzzOperation;
  /** Whether every part was generated from its schema (the answer may still be a 4xx: state, roles). */
  valid: boolean;
  what: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The body as bytes (it may be deliberately malformed), or undefined for none. */
  body?: Buffer;
  principal: string;
}

/** Strings a careless client sends: each must be refused or stored as sent, never a 500. */
const NASTY_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  '\ud800',
  'x\udc00',
  '\u{1F600}',
  '4242424242424242',
  '4000 0000 0000 0002',
  "'; DROP TABLE accounts; --",
  '%00',
  '../../etc/passwd',
  '\u202Eevil',
  'é'.repeat(300),
  'x'.repeat(5000),
  '1e400',
  '-1',
  '0',
  'null',
  'true',
  '2026-02-30',
  '9999-99-99T99:99:99Z',
  '00000000-0000-0000-0000-000000000000',
  'ABCDEFAB-4242-4242-4242-424242424242',
];

const NASTY_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e20,
  -1e20,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  [],
  {},
  [null],
  { a: { b: { c: 'd' } } },
  ...NASTY_STRINGS,
];

export class SchemaArbitraries {
  constructor(
    private readonly doc: OpenApiDocument,
    private readonly known: KnownValues,
  ) {}

  resolve(schema: Schema | undefined): Schema {
    let s = schema ?? {};
    for (let i = 0; i < 10 && s.$ref; i++) {
      const name = s.$ref.replace('#/components/schemas/', '');
      s = this.doc.components.schemas[name] ?? {};
    }
    if (s.allOf && s.allOf.length > 0) {
      const merged: Schema = { type: 'object', properties: {}, required: [] };
      for (const part of s.allOf.map((p) => this.resolve(p))) {
        Object.assign(merged.properties ?? {}, part.properties ?? {});
        merged.required = [...(merged.required ?? []), ...(part.required ?? [])];
      }
      return merged;
    }
    return s;
  }

  /** Values that fit the schema; known values of the world are preferred for a field of that name. */
  valid(schema: Schema | undefined, name?: string, depth = 0): fc.Arbitrary<unknown> {
    const s = this.resolve(schema);
    const fromSchema = this.fromSchema(s, depth);
    const known = name !== undefined ? this.known[name] : undefined;
    const base =
      known && known.length > 0
        ? fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 3 }, { arbitrary: fromSchema, weight: 1 })
        : fromSchema;
    return s.nullable
      ? fc.oneof({ arbitrary: base, weight: 5 }, { arbitrary: fc.constant(null), weight: 1 })
      : base;
  }

  private fromSchema(s: Schema, depth: number): fc.Arbitrary<unknown> {
    if (s.enum && s.enum.length > 0) return fc.constantFrom(...s.enum);
    if (s.oneOf || s.anyOf) {
      const options = (s.oneOf ?? s.anyOf ?? []).map((o) => this.valid(o, undefined, depth + 1));
      return fc.oneof(...options);
    }
    switch (s.type ?? 'object') {
      case 'string':
        return this.string(s);
      case 'integer':
      case 'number':
        return fc.integer({
          min: Math.max(s.minimum ?? -1000, Number.MIN_SAFE_INTEGER),
          max: Math.min(s.maximum ?? 10_000_000, Number.MAX_SAFE_INTEGER),
        });
      case 'boolean':
        return fc.boolean();
      case 'array': {
        const items = this.valid(s.items, undefined, depth + 1);
        return fc.array(items, {
          minLength: s.minItems ?? 0,
          maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 3, 3)),
        });
      }
      case 'object':
      default: {
        if (!s.properties) {
          if (depth > 2) return fc.constant({});
          return fc.dictionary(
            fc.string({ minLength: 1, maxLength: 10 }),
            fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()),
            { maxKeys: 3 },
          );
        }
        const props = s.properties;
        const record: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [key, value] of Object.entries(props)) record[key] = this.valid(value, key, depth + 1);
        return fc.record(record, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
      }
    }
  }

  private string(s: Schema): fc.Arbitrary<string> {
    const minLength = s.minLength ?? 0;
    const maxLength = Math.min(s.maxLength ?? 40, Math.max(minLength, 40));
    switch (s.format ?? '') {
      case 'uuid':
        return fc.uuid();
      case 'date-time':
        return fc
          .date({
            min: new Date('2020-01-01T00:00:00Z'),
            max: new Date('2030-01-01T00:00:00Z'),
            noInvalidDate: true,
          })
          .map((d) => d.toISOString());
      case 'date':
        return fc
          .date({
            min: new Date('2020-01-01T00:00:00Z'),
            max: new Date('2030-01-01T00:00:00Z'),
            noInvalidDate: true,
          })
          .map((d) => d.toISOString().slice(0, 10));
      case 'email':
        return fc.emailAddress().filter((e) => e.length <= (s.maxLength ?? 254));
      case 'uri':
      case 'url':
        return fc.constantFrom('https://93.184.215.14/hooks', 'https://hooks.example.com/billing');
      default:
        break;
    }
    if (s.pattern) {
      try {
        return fc
          .stringMatching(new RegExp(s.pattern))
          .filter((v) => v.length >= minLength && v.length <= (s.maxLength ?? Infinity));
      } catch {
        // a pattern JavaScript cannot read: plain strings below
      }
    }
    return fc.string({ minLength, maxLength, unit: 'grapheme' });
  }

  /** A value that breaks the schema somewhere (a wrong type, a missing field, a stranger). */
  invalid(schema: Schema | undefined, name?: string): fc.Arbitrary<unknown> {
    const s = this.resolve(schema);
    const nasty = fc.constantFrom(...NASTY_VALUES);
    if (s.type === 'object' || s.properties) {
      const props = Object.keys(s.properties ?? {});
      return this.valid(s, name).chain((value) => {
        const obj = { ...(value as Record<string, unknown>) };
        const mutations: fc.Arbitrary<Record<string, unknown>>[] = [
          fc.constant(obj).map((o) => {
            const required = s.required ?? [];
            const drop = required[0];
            if (drop !== undefined) delete o[drop];
            else o.unexpectedField = 'x';
            return o;
          }),
          fc
            .tuple(fc.constantFrom(...(props.length > 0 ? props : ['x'])), nasty)
            .map(([k, v]) => ({ ...obj, [k]: v })),
          fc
            .tuple(
              fc.constantFrom(...(props.length > 0 ? props : ['x'])),
              fc.constantFrom(...(props.length > 0 ? props : ['x'])),
            )
            .chain(([k]) => this.invalid(s.properties?.[k], k).map((v) => ({ ...obj, [k]: v }))),
          fc
            .string({ minLength: 1, maxLength: 12 })
            .map((k) => ({ ...obj, [`${k}\u0000`]: 1, [k]: 'extra' })),
        ];
        return fc.oneof(...mutations);
      });
    }
    return fc.oneof(nasty, fc.string({ maxLength: 30 }));
  }
}

/** Bodies no schema describes: bytes that are not UTF-8, broken JSON, absurd nesting, other roots. */
export const RAW_BODIES: { what: string; bytes: Buffer }[] = [
  { what: 'invalid UTF-8', bytes: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
  {
    what: 'CESU-8 surrogate',
    bytes: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
  },
  { what: 'truncated JSON', bytes: Buffer.from('{"amount": 5') },
  { what: 'deep nesting', bytes: Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`) },
  { what: 'deep metadata', bytes: Buffer.from(`{"metadata":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`) },
  { what: 'array root', bytes: Buffer.from('[]') },
  { what: 'string root', bytes: Buffer.from('"x"') },
  { what: 'number root', bytes: Buffer.from('12') },
  { what: 'null root', bytes: Buffer.from('null') },
  { what: 'proto pollution', bytes: Buffer.from('{"__proto__":{"admin":true}}') },
  { what: 'empty', bytes: Buffer.alloc(0) },
];

/** OpenAPI 3.0 schemas as JSON Schema for ajv: `nullable` becomes a null alternative, refs point into one document. */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (k === 'nullable' || k === 'example' || k === 'examples') continue;
    if (k === '$ref' && typeof v === 'string') out.$ref = `openapi${v}`;
    else out[k] = toJsonSchema(v);
  }
  if ((schema as Schema).nullable) return { anyOf: [out, { type: 'null' }] };
  return out;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Checks answers against the document: a documented status, a documented media type, the documented schema. */
export class ResponseChecker {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(doc: OpenApiDocument) {
    this.ajv = new Ajv({ strict: false, allErrors: false });
    addFormats(this.ajv);
    this.ajv.addFormat('binary', true);
    this.ajv.addSchema({ $id: 'openapi', components: toJsonSchema(doc.components) }, 'openapi');
  }

  /** A problem with this answer, or null when the document describes it. */
  check(operation: FuzzOperation, status: number, contentType: string | null, body: unknown): string | null {
    const response = operation.op.responses[String(status)] ?? operation.op.responses.default;
    if (!response)
      return `status ${status} is not documented (${Object.keys(operation.op.responses).join(', ')})`;
    if (!response.content || Object.keys(response.content).length === 0) return null;
    const media = (contentType ?? '').split(';')[0]?.trim() ?? '';
    const documented = response.content[media];
    if (!documented) return `content-type ${media || '(none)'} is not documented for ${status}`;
    if (!media.includes('json') || !documented.schema) return null;
    const key = `${operation.method} ${operation.path} ${status} ${media}`;
    let validate = this.cache.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(documented.schema) as object);
      this.cache.set(key, validate);
    }
    if (validate(body)) return null;
    return `body does not match the documented schema: ${this.ajv.errorsText(validate.errors)}`;
  }
}
