#!/usr/bin/env node
// Refreshes the vendored subset of Stripe's public OpenAPI spec and example objects (github.com/stripe/openapi,
// MIT, see LICENSE beside this file) that the shape checks of apps/stripe-emulator/test-support/stripe-shapes.ts
// read. Only what the emulator serves is kept:
//   - spec3.subset.json: the paths under every resource the emulator routes (apps/stripe-emulator/src/resources),
//     the components those paths and the OpenAPI-checked objects reach (closed under $ref), without the
//     prose `description`s;
//   - fixtures3.subset.json: Stripe's example objects of the types the emulator returns.
//
//   node apps/stripe-emulator/openapi/refresh.mjs --spec <file|URL of spec3.json> --fixtures <file|URL of fixtures3.json>
//   npm run stripe:openapi -- --spec ... --fixtures ...
//
// e.g. --spec https://raw.githubusercontent.com/stripe/openapi/<tag>/openapi/spec3.json (a tag whose
// info.version is the one the checks are written for, 2024-04-10). Nothing is fetched unless asked.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const resourcesDir = path.resolve(here, '..', 'src', 'resources');

/** The OpenAPI components stripe-shapes.ts validates against (OPENAPI_2024_COMPONENTS there). */
export const CHECKED_COMPONENTS = [
  'balance_transaction',
  'customer',
  'product',
  'price',
  'payment_method',
  'refund',
  'setup_intent',
];

/** Stripe's example objects of the types the emulator returns (STRIPE_OBJECT_NAMES in stripe-shapes.ts). */
export const FIXTURES = [
  'balance_transaction',
  'billing_portal.session',
  'charge',
  'checkout.session',
  'customer',
  'customer_balance_transaction',
  'deleted_customer',
  'deleted_product',
  'event',
  'invoice',
  'invoice_payment',
  'invoiceitem',
  'line_item',
  'payment_intent',
  'payment_method',
  'price',
  'product',
  'refund',
  'setup_intent',
  'subscription',
  'subscription_item',
  'test_helpers.test_clock',
  'token',
  'webhook_endpoint',
];

/** Resources that live under two path segments (`/v1/checkout/sessions`). */
const TWO_SEGMENT = new Set(['checkout', 'billing_portal', 'test_helpers']);

/** The resources the emulator routes (`customers`, `checkout/sessions`, ...), read from its source. */
export function emulatorResources(dir = resourcesDir) {
  const found = new Set();
  for (const file of fs.readdirSync(dir)) {
    if (!file.endsWith('.ts') || file.endsWith('.spec.ts')) continue;
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/router\.(?:get|post|delete)\(\s*'\/v1\/([^']+)'/g)) {
      const segments = m[1].split('/');
      found.add(TWO_SEGMENT.has(segments[0]) ? segments.slice(0, 2).join('/') : segments[0]);
    }
  }
  return [...found].sort();
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

function refsIn(node, out = new Set()) {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, out));
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const m = /^#\/components\/schemas\/(.+)$/.exec(v);
        if (m) out.add(m[1]);
      } else refsIn(v, out);
    }
  }
  return out;
}

/** Drops the prose `description` keyword (never a property named description: those are objects). */
function withoutDescriptions(node) {
  if (Array.isArray(node)) return node.map(withoutDescriptions);
  if (!isObject(node)) return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'description' && typeof v === 'string') continue;
    out[k] = withoutDescriptions(v);
  }
  return out;
}

/** The subset of a full spec3.json for the given resources. */
export function trimSpec(spec, resources) {
  const paths = {};
  for (const [p, item] of Object.entries(spec.paths).sort(([a], [b]) => a.localeCompare(b))) {
    if (resources.some((r) => p === `/v1/${r}` || p.startsWith(`/v1/${r}/`))) paths[p] = item;
  }
  const all = spec.components.schemas;
  const keep = new Set();
  const todo = [...CHECKED_COMPONENTS, ...refsIn(paths)];
  while (todo.length > 0) {
    const name = todo.pop();
    if (keep.has(name)) continue;
    if (!all[name]) throw new Error(`refresh: the spec has no component ${name}`);
    keep.add(name);
    for (const r of refsIn(all[name])) if (!keep.has(r)) todo.push(r);
  }
  const schemas = Object.fromEntries([...keep].sort().map((n) => [n, all[n]]));
  return withoutDescriptions({
    openapi: spec.openapi,
    info: { title: spec.info.title, version: spec.info.version },
    'x-subset': {
      of: 'github.com/stripe/openapi openapi/spec3.json (MIT, see LICENSE)',
      resources,
      checkedComponents: CHECKED_COMPONENTS,
      sourceSha256: createHash('sha256').update(JSON.stringify(spec)).digest('hex'),
    },
    paths,
    components: { schemas },
  });
}

export function trimFixtures(fixtures) {
  const resources = {};
  for (const name of FIXTURES) {
    if (!fixtures.resources[name]) throw new Error(`refresh: the fixtures have no ${name}`);
    resources[name] = fixtures.resources[name];
  }
  return {
    'x-subset': { of: 'github.com/stripe/openapi openapi/fixtures3.json (MIT, see LICENSE)' },
    resources,
  };
}

async function load(source) {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source);
    if (!res.ok) throw new Error(`refresh: ${source} answered ${res.status}`);
    return await res.json();
  }
  return JSON.parse(fs.readFileSync(source, 'utf8'));
}

const USAGE = `Usage: node apps/stripe-emulator/openapi/refresh.mjs --spec <file|URL> --fixtures <file|URL>

Rewrites apps/stripe-emulator/openapi/spec3.subset.json and fixtures3.subset.json from Stripe's
published openapi/spec3.json and openapi/fixtures3.json (github.com/stripe/openapi), keeping only the
resources the emulator routes. Options:
  --spec <file|URL>      Stripe's full spec3.json
  --fixtures <file|URL>  Stripe's full fixtures3.json
  -h, --help             this text`;

async function main() {
  const { values } = parseArgs({
    options: {
      spec: { type: 'string' },
      fixtures: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.spec || !values.fixtures) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const resources = emulatorResources();
  const spec = trimSpec(await load(values.spec), resources);
  const fixtures = trimFixtures(await load(values.fixtures));
  fs.writeFileSync(path.join(here, 'spec3.subset.json'), `${JSON.stringify(spec, null, 1)}\n`);
  fs.writeFileSync(path.join(here, 'fixtures3.subset.json'), `${JSON.stringify(fixtures, null, 1)}\n`);
  console.log(
    `refresh: ${Object.keys(spec.paths).length} paths, ${Object.keys(spec.components.schemas).length} components ` +
      `(API ${spec.info.version}) for ${resources.length} resources; ${FIXTURES.length} example objects`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
