// Shape-fidelity checks for tests: does a value look exactly like what Stripe returns at the API version
// the installed `stripe` package pins? Two sources of truth:
//   1. apps/stripe-emulator/schemas/*.json, generated from the SDK's own type declarations
//      (scripts/stripe-schemas/generate.mjs): expectStripeShape('Customer', value).
//   2. Stripe's public OpenAPI spec at 2024-04-10, the subset vendored in apps/stripe-emulator/openapi/
//      (refresh.mjs there), for the objects that have not changed since: expectOpenApi2024Shape('customer', value).
// Both throw an Error listing every violation with its JSON path; validate* return the list instead.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import standaloneModule from 'ajv/dist/standalone/index.js';

const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;
const standaloneCode = standaloneModule.default;
type AjvInstance = InstanceType<typeof Ajv>;

/** The objects the emulator returns, by the SDK's name (`Stripe.Checkout.Session` is `Checkout.Session`). */
export const STRIPE_OBJECT_NAMES = [
  'Customer',
  'DeletedCustomer',
  'PaymentMethod',
  'SetupIntent',
  'PaymentIntent',
  'Charge',
  'Refund',
  'Product',
  'DeletedProduct',
  'Price',
  'Subscription',
  'SubscriptionItem',
  'Invoice',
  'InvoiceItem',
  'InvoiceLineItem',
  'InvoicePayment',
  'Checkout.Session',
  'BillingPortal.Session',
  'Event',
  'WebhookEndpoint',
  'TestHelpers.TestClock',
  'CustomerBalanceTransaction',
  'List',
] as const;
export type StripeObjectName = (typeof STRIPE_OBJECT_NAMES)[number];

/** The 2024-04-10 OpenAPI components for objects that have not changed since (NOTES.md). */
export const OPENAPI_2024_COMPONENTS = [
  'customer',
  'product',
  'price',
  'payment_method',
  'refund',
  'setup_intent',
  'balance_transaction',
] as const;
export type OpenApi2024ComponentName = (typeof OPENAPI_2024_COMPONENTS)[number];

export interface StripeShapeOptions {
  /**
   * By default a property the SDK does not declare is a violation (the emulator must not invent fields,
   * nor keep ones Stripe removed, such as `current_period_end` on a subscription since 2025-03-31).
   * Set to true to check only the declared properties.
   */
  allowUnknownProperties?: boolean;
}

export interface StripeSchemaIndex {
  stripe: string;
  apiVersion: string;
  schemaBase: string;
  shared: string;
  objects: Record<StripeObjectName, string>;
  eventObjects: Record<string, StripeObjectName>;
}

// ---------------------------------------------------------------------------------------------------------
// Locating files

function moduleDir(): string | undefined {
  try {
    return path.dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
}

/** The generated schemas folder: beside this file, else from the repository root (process.cwd()). */
export function stripeSchemasDir(): string {
  const here = moduleDir();
  const candidates = [
    ...(here ? [path.resolve(here, '..', 'schemas')] : []),
    path.resolve(process.cwd(), 'apps', 'stripe-emulator', 'schemas'),
  ];
  const dir = candidates.find((c) => fs.existsSync(path.join(c, 'index.json')));
  if (!dir) {
    throw new Error(
      `stripe-shapes: no schemas/index.json in ${candidates.join(' or ')}; run \`npm run stripe:schemas\` ` +
        '(node scripts/stripe-schemas/generate.mjs) from the repository root.',
    );
  }
  return dir;
}

/** The vendored subset of Stripe's OpenAPI spec and example objects: `apps/stripe-emulator/openapi`. */
export function vendoredOpenApiDir(): string {
  const here = moduleDir();
  const candidates = [
    ...(here ? [path.resolve(here, '..', 'openapi')] : []),
    path.resolve(process.cwd(), 'apps', 'stripe-emulator', 'openapi'),
  ];
  return (
    candidates.find((c) => fs.existsSync(path.join(c, 'spec3.subset.json'))) ?? (candidates[0] as string)
  );
}

/**
 * The 2024-04-10 OpenAPI spec (the subset in the repository): `STRIPE_OPENAPI_2024_SPEC` if set (a full
 * spec3.json works too), else `apps/stripe-emulator/openapi/spec3.subset.json`.
 */
export function openApi2024SpecPath(): string {
  const fromEnv = process.env['STRIPE_OPENAPI_2024_SPEC'];
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(vendoredOpenApiDir(), 'spec3.subset.json');
}

/** Stripe's example objects (`{ resources: { name: object } }`) of the types the emulator returns. */
export function stripeFixtures(): Record<string, Record<string, unknown>> {
  const file = path.join(vendoredOpenApiDir(), 'fixtures3.subset.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { resources: Record<string, Record<string, unknown>> })
    .resources;
}

// ---------------------------------------------------------------------------------------------------------
// SDK schemas

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

let index: StripeSchemaIndex | undefined;
let schemaFiles: JsonObject[] | undefined;
const sdkValidatorsByMode: Partial<Record<Mode, Validators>> = {};

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
}

/** The generated schemas' index.json: the SDK and API version they describe, the file of each object. */
export function stripeSchemaIndex(): StripeSchemaIndex {
  index ??= readJson(path.join(stripeSchemasDir(), 'index.json')) as StripeSchemaIndex;
  return index;
}

function loadSchemaFiles(): JsonObject[] {
  if (!schemaFiles) {
    const dir = stripeSchemasDir();
    const idx = stripeSchemaIndex();
    const files = [idx.shared, ...Object.values(idx.objects)];
    schemaFiles = [...new Set(files)].map((f) => readJson(path.join(dir, f)) as JsonObject);
  }
  return schemaFiles;
}

/** A copy of a schema without `additionalProperties: false` (index signatures stay). */
function withoutClosedObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutClosedObjects);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'additionalProperties' && v === false) continue;
    out[k] = withoutClosedObjects(v);
  }
  return out;
}

type Mode = 'strict' | 'lenient';
type Validators = Partial<Record<StripeObjectName, ValidateFunction>>;
const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, inlineRefs: false } as const;

function requireHere(): NodeJS.Require {
  const here = moduleDir();
  return createRequire(here ? path.join(here, 'stripe-shapes.js') : path.join(process.cwd(), 'package.json'));
}

/**
 * Compiling the schemas takes seconds (every large object reaches some 1,300 definitions), and jest gives each
 * test file a fresh module registry. So the compiled validators are also kept on disk as ajv standalone code
 * (node_modules/.cache/stripe-shapes/<hash of schemas, ajv version and options>.cjs) and later test files
 * load that in a fraction of a second. `STRIPE_SHAPES_CACHE=0` turns the disk cache off.
 */
function cacheFile(mode: Mode, schemas: JsonObject[]): string | undefined {
  if (process.env['STRIPE_SHAPES_CACHE'] === '0') return undefined;
  const req = requireHere();
  const ajvVersion = (req('ajv/package.json') as { version: string }).version;
  const hash = createHash('sha256')
    .update(JSON.stringify({ ajvVersion, mode, AJV_OPTIONS, schemas }))
    .digest('hex')
    .slice(0, 24);
  return path.join(process.cwd(), 'node_modules', '.cache', 'stripe-shapes', `${mode}-${hash}.cjs`);
}

function loadCached(file: string): Validators | undefined {
  try {
    if (!fs.existsSync(file)) return undefined;
    const code = fs.readFileSync(file, 'utf8');
    const mod: { exports: Validators } = { exports: {} };
    // The file is ajv's own standalone output for our committed schemas, written by compileValidators below.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const load = new Function('require', 'module', 'exports', code) as (
      r: NodeJS.Require,
      m: object,
      e: object,
    ) => void;
    load(requireHere(), mod, mod.exports);
    return STRIPE_OBJECT_NAMES.every((n) => typeof mod.exports[n] === 'function') ? mod.exports : undefined;
  } catch {
    return undefined;
  }
}

function compileValidators(mode: Mode, schemas: JsonObject[], file: string | undefined): Validators {
  const idx = stripeSchemaIndex();
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: file !== undefined } });
  addFormats(ajv);
  for (const schema of schemas) ajv.addSchema(schema);
  const validators: Validators = {};
  const ids: Record<string, string> = {};
  for (const name of STRIPE_OBJECT_NAMES) {
    const id = idx.schemaBase + idx.objects[name];
    const validate = ajv.getSchema(id);
    if (!validate) throw new Error(`stripe-shapes: schema ${id} did not load`);
    validators[name] = validate;
    ids[name] = id;
  }
  if (file) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, standaloneCode(ajv, ids));
      fs.renameSync(tmp, file);
    } catch {
      // A read-only checkout: no disk cache, the in-memory validators still work.
    }
  }
  return validators;
}

function sdkValidators(mode: Mode): Validators {
  let validators = sdkValidatorsByMode[mode];
  if (!validators) {
    const schemas = loadSchemaFiles().map((s) =>
      mode === 'strict' ? s : (withoutClosedObjects(s) as JsonObject),
    );
    const file = cacheFile(mode, schemas);
    validators = (file ? loadCached(file) : undefined) ?? compileValidators(mode, schemas, file);
    sdkValidatorsByMode[mode] = validators;
  }
  return validators;
}

function sdkValidator(name: StripeObjectName, options: StripeShapeOptions): ValidateFunction {
  const validate = sdkValidators(options.allowUnknownProperties ? 'lenient' : 'strict')[name];
  if (!validate) throw new Error(`stripe-shapes: no schema for ${String(name)}`);
  return validate;
}

/**
 * What the value looks like on the wire: the SDK turns `*_decimal` strings into Decimal objects (whose
 * toJSON gives the string back) and hangs a non-enumerable `lastResponse` on results; JSON drops both.
 */
function asWireJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** `/a/0/b~1c` -> `$.a[0]["b/c"]` */
function jsonPath(pointer: string): string {
  if (pointer === '') return '$';
  return (
    '$' +
    pointer
      .slice(1)
      .split('/')
      .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((seg) =>
        /^\d+$/.test(seg)
          ? `[${seg}]`
          : /^[A-Za-z_$][\w$]*$/.test(seg)
            ? `.${seg}`
            : `[${JSON.stringify(seg)}]`,
      )
      .join('')
  );
}

function describeError(e: ErrorObject): string {
  const at = jsonPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${at}: missing required property '${String(params['missingProperty'])}'`;
    case 'additionalProperties':
      return `${at}: unknown property '${String(params['additionalProperty'])}'`;
    case 'false schema':
      return `${at}: must be absent`;
    case 'enum':
      return `${at}: must be one of ${JSON.stringify(params['allowedValues'])}`;
    case 'const':
      return `${at}: must be ${JSON.stringify(params['allowedValue'])}`;
    default:
      return `${at}: ${e.message ?? e.keyword}`;
  }
}

const ALTERNATIVE_KEYWORDS = new Set(['type', 'anyOf', 'oneOf', 'if']);

/**
 * One line per violation. ajv reports every failed branch of an `anyOf` (a nullable or expandable field):
 * when a branch got further than its type (a missing property inside the object branch, say), the
 * branches' bare type mismatches at or above that place are noise and are left out; type mismatches left at
 * one place are merged (`must be integer or null`).
 */
function describeErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  const all = errors ?? [];
  // A branch "got further" at p when it reported anything below p, or a non-alternative error at p.
  const hasSpecificAtOrBelow = (p: string): boolean =>
    all.some(
      (o) =>
        o.instancePath.startsWith(p + '/') || (o.instancePath === p && !ALTERNATIVE_KEYWORDS.has(o.keyword)),
    );
  const types = new Map<string, string[]>();
  const lines: string[] = [];
  for (const e of all) {
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      if (
        !hasSpecificAtOrBelow(e.instancePath) &&
        !all.some((o) => o.keyword === 'type' && o.instancePath === e.instancePath)
      ) {
        lines.push(describeError(e));
      }
      continue;
    }
    if (e.keyword === 'type') {
      if (hasSpecificAtOrBelow(e.instancePath)) continue;
      const expected = (e.params as { type?: unknown }).type;
      const list = types.get(e.instancePath) ?? [];
      for (const t of Array.isArray(expected) ? expected : [expected])
        if (!list.includes(String(t))) list.push(String(t));
      if (!types.has(e.instancePath)) lines.push(`\u0000type:${e.instancePath}`);
      types.set(e.instancePath, list);
      continue;
    }
    lines.push(describeError(e));
  }
  const out = lines.map((l) => {
    if (!l.startsWith('\u0000type:')) return l;
    const p = l.slice('\u0000type:'.length);
    const expected = [...(types.get(p) ?? [])].sort((a, b) => Number(a === 'null') - Number(b === 'null'));
    return `${jsonPath(p)}: must be ${expected.join(' or ')}`;
  });
  return [...new Set(out)];
}

function runValidator(validate: ValidateFunction, value: unknown): string[] {
  const wire = asWireJson(value);
  if (wire === undefined) return ['$: value is undefined'];
  return validate(wire) ? [] : describeErrors(validate.errors);
}

/** The violations of `value` against the SDK schema of `name` (empty when it matches). */
export function validateStripeShape(
  name: StripeObjectName,
  value: unknown,
  options: StripeShapeOptions = {},
): string[] {
  return runValidator(sdkValidator(name, options), value);
}

function shapeError(what: string, violations: string[], value: unknown): Error {
  const id = isObject(value) && typeof value['id'] === 'string' ? ` ${value['id']}` : '';
  return new Error(
    `${what}${id} does not match (${violations.length} violation${violations.length === 1 ? '' : 's'}):\n` +
      violations.map((v) => `  - ${v}`).join('\n'),
  );
}

/** Throws an Error listing every violation (with its JSON path) when `value` is not a valid `name`. */
export function expectStripeShape(
  name: StripeObjectName,
  value: unknown,
  options: StripeShapeOptions = {},
): void {
  const violations = validateStripeShape(name, value, options);
  if (violations.length > 0) {
    const idx = stripeSchemaIndex();
    throw shapeError(`Stripe ${name} (stripe@${idx.stripe}, API ${idx.apiVersion})`, violations, value);
  }
}

/** A list envelope (`{ object: 'list', data, has_more, url }`) whose every item is a valid `itemName`. */
export function validateStripeListShape(
  itemName: StripeObjectName,
  value: unknown,
  options: StripeShapeOptions = {},
): string[] {
  const violations = validateStripeShape('List', value, options);
  const data = isObject(value) ? value['data'] : undefined;
  if (Array.isArray(data)) {
    data.forEach((item, i) => {
      for (const v of validateStripeShape(itemName, item, options))
        violations.push(v.replace(/^\$/, `$.data[${i}]`));
    });
  }
  return violations;
}

export function expectStripeListShape(
  itemName: StripeObjectName,
  value: unknown,
  options: StripeShapeOptions = {},
): void {
  const violations = validateStripeListShape(itemName, value, options);
  if (violations.length > 0) {
    const idx = stripeSchemaIndex();
    throw shapeError(
      `Stripe list of ${itemName} (stripe@${idx.stripe}, API ${idx.apiVersion})`,
      violations,
      value,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// The 2024-04-10 OpenAPI spec

const OPENAPI_ID = 'https://stripe-shapes.invalid/openapi-2024-04-10.json';
// By spec file (STRIPE_OPENAPI_2024_SPEC may name another one), and by `<file>#<component>`.
const openApiAjvs = new Map<string, AjvInstance>();
const openApiValidators = new Map<string, ValidateFunction>();

const componentRef = (ref: string): string => {
  const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
  if (!m?.[1]) throw new Error(`stripe-shapes: unexpected $ref ${ref} in the OpenAPI spec`);
  return `#/definitions/${m[1]}`;
};

/**
 * OpenAPI 3.0 schema object -> JSON Schema draft-07: `$ref`s to `#/definitions`, `nullable: true` as a
 * `null` alternative, the refs of `x-expansionResources` added to an expandable field's `anyOf`, enums marked
 * `x-stripeBypassValidation` (Stripe may send other values) opened, other `x-*` extensions dropped.
 */
export function openApiToJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(openApiToJsonSchema);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-') || k === 'nullable' || k === 'example' || k === 'discriminator') continue;
    if (k === '$ref' && typeof v === 'string') out[k] = componentRef(v);
    else if (k === 'properties' && isObject(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, openApiToJsonSchema(s)]));
    } else out[k] = openApiToJsonSchema(v);
  }
  const expansion = node['x-expansionResources'];
  if (isObject(expansion) && Array.isArray(expansion['oneOf'])) {
    const anyOf = Array.isArray(out['anyOf']) ? [...(out['anyOf'] as unknown[])] : [];
    const has = new Set(anyOf.map((m) => (isObject(m) ? m['$ref'] : undefined)));
    for (const alt of expansion['oneOf'] as unknown[]) {
      const converted = openApiToJsonSchema(alt);
      if (isObject(converted) && !has.has(converted['$ref'])) anyOf.push(converted);
    }
    if (!Array.isArray(out['anyOf']) && out['type'] === 'string') {
      // an expandable declared as a plain string id: the id or one of the expansions
      const idSchema: JsonObject = { type: 'string' };
      if (typeof out['maxLength'] === 'number') idSchema['maxLength'] = out['maxLength'];
      delete out['type'];
      delete out['maxLength'];
      anyOf.unshift(idSchema);
    }
    out['anyOf'] = anyOf;
  }
  if (node['x-stripeBypassValidation'] === true && Array.isArray(out['enum'])) delete out['enum'];
  if (node['nullable'] === true) {
    if (typeof out['type'] === 'string') {
      out['type'] = [out['type'], 'null'];
      if (Array.isArray(out['enum']) && !out['enum'].includes(null))
        out['enum'] = [...(out['enum'] as unknown[]), null];
    } else {
      const description = out['description'];
      const inner = { ...out };
      delete inner['description'];
      return { ...(description === undefined ? {} : { description }), anyOf: [inner, { type: 'null' }] };
    }
  }
  return out;
}

function openApiInstance(file: string): AjvInstance {
  let openApiAjv = openApiAjvs.get(file);
  if (!openApiAjv) {
    if (!fs.existsSync(file)) {
      throw new Error(
        `stripe-shapes: the OpenAPI 2024-04-10 spec is missing at ${file}; it is part of the repository ` +
          '(apps/stripe-emulator/openapi/spec3.subset.json, made by refresh.mjs there).',
      );
    }
    const spec = readJson(file) as { components?: { schemas?: JsonObject } };
    const components = spec.components?.schemas;
    if (!components) throw new Error(`stripe-shapes: ${file} has no components.schemas`);
    const definitions: JsonObject = {};
    for (const [name, schema] of Object.entries(components)) definitions[name] = openApiToJsonSchema(schema);
    const ajv = new Ajv({ allErrors: true, strict: false, inlineRefs: false });
    addFormats(ajv);
    ajv.addFormat('unix-time', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    ajv.addFormat('decimal', /^-?[0-9]+(\.[0-9]+)?$/);
    ajv.addSchema({ $id: OPENAPI_ID, definitions });
    openApiAjv = ajv;
    openApiAjvs.set(file, ajv);
  }
  return openApiAjv;
}

function openApiValidator(component: OpenApi2024ComponentName): ValidateFunction {
  const file = openApi2024SpecPath();
  let validate = openApiValidators.get(`${file}#${component}`);
  if (!validate) {
    if (!(OPENAPI_2024_COMPONENTS as readonly string[]).includes(component)) {
      throw new Error(
        `stripe-shapes: ${String(component)} is not one of the 2024 components checked (${OPENAPI_2024_COMPONENTS.join(', ')})`,
      );
    }
    validate = openApiInstance(file).compile({ $ref: `${OPENAPI_ID}#/definitions/${component}` });
    openApiValidators.set(`${file}#${component}`, validate);
  }
  return validate;
}

/**
 * The violations of `value` against the 2024-04-10 OpenAPI component (empty when it matches; a missing
 * spec throws). Extra properties are allowed: the pinned version is newer than the spec.
 */
export function validateOpenApi2024Shape(component: OpenApi2024ComponentName, value: unknown): string[] {
  return runValidator(openApiValidator(component), value);
}

export function expectOpenApi2024Shape(component: OpenApi2024ComponentName, value: unknown): void {
  const violations = validateOpenApi2024Shape(component, value);
  if (violations.length > 0)
    throw shapeError(`Stripe ${component} (OpenAPI spec 2024-04-10)`, violations, value);
}
