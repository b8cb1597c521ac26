#!/usr/bin/env node
// Generates JSON Schemas (draft-07) for the Stripe objects the emulator returns, from the installed
// `stripe` package's own type declarations (node_modules/stripe/cjs/resources/*.d.ts), which Stripe
// generates from its OpenAPI spec at the pinned API version. Run: `node scripts/stripe-schemas/generate.mjs`
// (or `npm run stripe:schemas`); `--check` regenerates into a temp folder and exits 1 if the committed files
// differ. Output: apps/stripe-emulator/schemas/*.json, deterministic, so a re-run
// on the same SDK is a no-op diff. See apps/stripe-emulator/schemas/README.md for the layout and fix-ups.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const outDir = path.join(repoRoot, 'apps', 'stripe-emulator', 'schemas');
const stripeDir = path.join(repoRoot, 'node_modules', 'stripe');
const require = createRequire(path.join(repoRoot, 'package.json'));
const TJS = require('typescript-json-schema');
const ts = TJS.ts;

/** Base of every schema's `$id`; a reserved TLD, never fetched: refs between files resolve against it. */
const SCHEMA_BASE = 'https://stripe-shapes.invalid/';
const SHARED_FILE = '_shared.json';
const DRAFT7 = 'http://json-schema.org/draft-07/schema#';

/**
 * The objects the emulator returns. `name` is the public name (the file is `<name>.json`), `type` the SDK's
 * type. Event is special: see buildEventSchema.
 */
const OBJECTS = [
  { name: 'Customer', type: 'Stripe.Customer' },
  { name: 'DeletedCustomer', type: 'Stripe.DeletedCustomer' },
  { name: 'PaymentMethod', type: 'Stripe.PaymentMethod' },
  { name: 'SetupIntent', type: 'Stripe.SetupIntent' },
  { name: 'PaymentIntent', type: 'Stripe.PaymentIntent' },
  { name: 'Charge', type: 'Stripe.Charge' },
  { name: 'Refund', type: 'Stripe.Refund' },
  { name: 'Product', type: 'Stripe.Product' },
  { name: 'DeletedProduct', type: 'Stripe.DeletedProduct' },
  { name: 'Price', type: 'Stripe.Price' },
  { name: 'Subscription', type: 'Stripe.Subscription' },
  { name: 'SubscriptionItem', type: 'Stripe.SubscriptionItem' },
  { name: 'Invoice', type: 'Stripe.Invoice' },
  { name: 'InvoiceItem', type: 'Stripe.InvoiceItem' },
  { name: 'InvoiceLineItem', type: 'Stripe.InvoiceLineItem' },
  { name: 'InvoicePayment', type: 'Stripe.InvoicePayment' },
  { name: 'Checkout.Session', type: 'Stripe.Checkout.Session' },
  { name: 'BillingPortal.Session', type: 'Stripe.BillingPortal.Session' },
  { name: 'Event', type: 'Stripe.Event', custom: true },
  { name: 'WebhookEndpoint', type: 'Stripe.WebhookEndpoint' },
  { name: 'TestHelpers.TestClock', type: 'Stripe.TestHelpers.TestClock' },
  { name: 'CustomerBalanceTransaction', type: 'Stripe.CustomerBalanceTransaction' },
  { name: 'List', type: 'Stripe.ApiList<unknown>' },
];

const aliasOf = (name) => `Top_${name.replace(/\./g, '_')}`;

/**
 * Number fields that Stripe's API declares as integers (amounts in minor units, counts, Unix timestamps).
 * The SDK types them `number`; the schemas tighten them to `integer` so a float in an amount is caught.
 */
const INTEGER_FIELD =
  /(^|_)(amount|amounts)(_|$)|^(created|updated|balance|quantity|total|subtotal|tax|frozen_time|attempt_count|next_payment_attempt|billing_cycle_anchor|exp_month|exp_year|trial_period_days|interval_count|days_until_due|starting_balance|ending_balance|post_payment_credit_notes_amount|pre_payment_credit_notes_amount|start|end|start_date|due_date|period_start|period_end|current_period_start|current_period_end|trial_start|trial_end|cancel_at|canceled_at|ended_at|expires_at|delete_after|webhooks_delivered_at|next_invoice_sequence|deletes_after|effective_at|completed_at|voided_at|paid_at|finalized_at|marked_uncollectible_at|resumes_at|available_on|arrival_date)$/;

function log(...args) {
  process.stderr.write(args.join(' ') + '\n');
}

function readVersions() {
  const stripePkg = JSON.parse(fs.readFileSync(path.join(stripeDir, 'package.json'), 'utf8'));
  const apiVersionJs = fs.readFileSync(path.join(stripeDir, 'cjs', 'apiVersion.js'), 'utf8');
  const apiVersion = /ApiVersion = '([^']+)'/.exec(apiVersionJs)?.[1];
  if (!apiVersion) throw new Error('Could not read the pinned API version from stripe/cjs/apiVersion.js');
  const tjsPkg = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'node_modules', 'typescript-json-schema', 'package.json'), 'utf8'),
  );
  // A hash of this script: the tests compare it with the script in the tree, so an edited generator whose
  // output was not regenerated fails fast (without running the generator in the unit tests).
  const generator = createHash('sha256')
    .update(fs.readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex')
    .slice(0, 16);
  return {
    stripe: stripePkg.version,
    apiVersion,
    typescriptJsonSchema: tjsPkg.version,
    typescript: ts.version,
    generator,
  };
}

/** A wrapper module re-exporting the SDK's namespaced types as top-level aliases TJS can find. */
function writeWrapper(dir) {
  const core = path.join(stripeDir, 'cjs', 'stripe.core.js').split(path.sep).join('/');
  const lines = [`import type { Stripe } from '${core}';`];
  for (const o of OBJECTS) lines.push(`export type ${aliasOf(o.name)} = ${o.type};`);
  lines.push('export type Top_EventBase = Stripe.EventBase;');
  const file = path.join(dir, 'stripe-objects.ts');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * TJS names definitions by their (namespace-qualified) TypeScript name, which drops the folder the SDK uses
 * as a namespace (Checkout, BillingPortal, TestHelpers, ...): `Checkout.Session` and `BillingPortal.Session`
 * would both be `Session`. Prefix names with that folder so they stay readable and stable.
 */
function patchNaming(gen) {
  const resourcesDir = path.join(stripeDir, 'cjs', 'resources') + path.sep;
  const original = gen.makeTypeNameUnique;
  gen.makeTypeNameUnique = function (typ, baseName) {
    const sym = typ.aliasSymbol ?? typ.symbol;
    const file = sym?.declarations?.[0]?.getSourceFile().fileName;
    let prefix = '';
    if (file) {
      const rel = path.normalize(file).startsWith(resourcesDir)
        ? path.normalize(file).slice(resourcesDir.length)
        : '';
      const dirs = rel.split(path.sep).slice(0, -1);
      if (dirs.length > 0 && !baseName.startsWith(dirs.join('.') + '.')) prefix = dirs.join('.') + '.';
    }
    return original.call(this, typ, prefix + baseName);
  };
}

/** For each event type of the SDK's `Stripe.Event` union, the object name of its `data.object`, if ours. */
function eventObjectMap(program, wrapperFile) {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(wrapperFile);
  const aliasTypes = new Map();
  source.forEachChild((node) => {
    if (ts.isTypeAliasDeclaration(node)) aliasTypes.set(node.name.text, checker.getTypeAtLocation(node.name));
  });
  const byType = new Map();
  for (const o of OBJECTS) if (!o.custom) byType.set(aliasTypes.get(aliasOf(o.name)), o.name);
  const eventUnion = aliasTypes.get(aliasOf('Event'));
  const result = {};
  for (const member of eventUnion.types) {
    const typeProp = checker.getPropertyOfType(member, 'type');
    const dataProp = checker.getPropertyOfType(member, 'data');
    const literal = checker.getTypeOfSymbol(typeProp);
    const objectProp = checker.getPropertyOfType(checker.getTypeOfSymbol(dataProp), 'object');
    const objectType = checker.getTypeOfSymbol(objectProp);
    const objectName = byType.get(objectType);
    if (literal.isStringLiteral() && objectName) result[literal.value] = objectName;
  }
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const refName = (ref) => decodeURIComponent(ref.replace(/^#\/definitions\//, ''));
const localRef = (name) => `#/definitions/${encodeURIComponent(name)}`;

/** Applies the known fix-ups to one schema node, recursively. Returns the new node. */
function fixNode(node, propName, stats, integers = true) {
  if (Array.isArray(node)) return node.map((n) => fixNode(n, undefined, stats, integers));
  if (!isObj(node)) return node;
  // `deleted?: void` (and any other `void`/`never` property) becomes `anyOf: []`, which no value satisfies
  // but which ajv rejects as a schema: the property must be absent.
  if (Array.isArray(node.anyOf) && node.anyOf.length === 0) {
    stats.voidProps.add(propName ?? '?');
    return false;
  }
  // Open enums: `'a' | 'b' | OtherString` (OtherString = string & Record<never, never>, which TJS renders as an
  // unsatisfiable allOf of object and string) accept any string; the known values stay as `examples`.
  if (Array.isArray(node.anyOf) && node.anyOf.some((m) => isObj(m) && m.$ref === localRef('OtherString'))) {
    const known = [];
    let nullable = false;
    for (const m of node.anyOf) {
      if (m.$ref === localRef('OtherString')) continue;
      if (Array.isArray(m.enum) && m.type === 'string') known.push(...m.enum);
      else if (m.type === 'string' && typeof m.const === 'string') known.push(m.const);
      else if (m.type === 'null') nullable = true;
      else throw new Error(`Unexpected member of an open enum: ${JSON.stringify(m)}`);
    }
    stats.openEnums += 1;
    const out = { ...node, type: nullable ? ['string', 'null'] : 'string' };
    delete out.anyOf;
    if (known.length > 0) out.examples = known;
    return out;
  }
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isObj(value)) {
      out.properties = {};
      for (const [p, s] of Object.entries(value)) out.properties[p] = fixNode(s, p, stats, integers);
    } else if (key === 'description' && propName !== undefined) {
      // Property descriptions are the SDK's doc comments: read them in the .d.ts; they would triple the size.
      continue;
    } else {
      out[key] = fixNode(value, undefined, stats, integers);
    }
  }
  if (integers && propName !== undefined && INTEGER_FIELD.test(propName) && !propName.includes('percent')) {
    if (out.type === 'number') {
      out.type = 'integer';
      stats.integers += 1;
    } else if (Array.isArray(out.type) && out.type.includes('number')) {
      out.type = out.type.map((t) => (t === 'number' ? 'integer' : t));
      stats.integers += 1;
    }
  }
  return out;
}

/** `object` constant of a definition and whether it is a deleted-object stub (`deleted: true` required). */
function discriminatorOf(def) {
  const objectConst = def?.properties?.object?.const;
  if (typeof objectConst !== 'string') return undefined;
  const deleted = def.properties.deleted?.const === true && (def.required ?? []).includes('deleted');
  return { objectConst, deleted };
}

/**
 * In every `anyOf` with two or more `$ref`s to objects told apart by their `object` constant (and `deleted`),
 * replaces those refs with one if/then/else chain on the discriminator. Same values accepted; ajv then
 * reports the errors of the branch the value claims to be, instead of every branch's.
 */
function discriminateUnions(node, defs, stats) {
  if (Array.isArray(node)) return node.map((n) => discriminateUnions(n, defs, stats));
  if (!isObj(node)) return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = discriminateUnions(v, defs, stats);
  if (!Array.isArray(out.anyOf)) return out;
  const refs = out.anyOf
    .filter((m) => isObj(m) && typeof m.$ref === 'string' && Object.keys(m).length === 1)
    .map((m) => ({ member: m, disc: discriminatorOf(defs[refName(m.$ref)]) }));
  if (refs.length < 2 || refs.some((r) => !r.disc)) return out;
  const keys = refs.map((r) => `${r.disc.objectConst}:${r.disc.deleted}`);
  if (new Set(keys).size !== keys.length) return out;
  // Deleted stubs first: `{ object: 'customer', deleted: true }` is a DeletedCustomer, never a Customer.
  const ordered = [...refs].sort((a, b) => Number(b.disc.deleted) - Number(a.disc.deleted));
  const consts = [...new Set(refs.map((r) => r.disc.objectConst))].sort();
  let chain = {
    type: 'object',
    properties: { object: consts.length === 1 ? { const: consts[0] } : { enum: consts } },
    required: ['object'],
  };
  for (const { member, disc } of ordered.reverse()) {
    const cond = disc.deleted
      ? {
          type: 'object',
          properties: { object: { const: disc.objectConst }, deleted: { const: true } },
          required: ['object', 'deleted'],
        }
      : { type: 'object', properties: { object: { const: disc.objectConst } }, required: ['object'] };
    chain = { if: cond, then: member, else: chain };
  }
  stats.discriminated += 1;
  const members = refs.map((r) => r.member);
  const firstIndex = out.anyOf.indexOf(members[0]);
  const rest = out.anyOf.filter((m) => !members.includes(m));
  rest.splice(firstIndex, 0, chain);
  return { ...out, anyOf: rest };
}

/** The `$ref`s (definition names) used in a node. */
function collectRefs(node, into) {
  if (Array.isArray(node)) node.forEach((n) => collectRefs(n, into));
  else if (isObj(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/')) into.add(refName(v));
      else collectRefs(v, into);
    }
  }
  return into;
}

function rewriteRefs(node, target) {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, target));
  if (!isObj(node)) return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/')
        ? target(refName(v))
        : rewriteRefs(v, target);
  }
  return out;
}

const sortKeys = (obj) =>
  Object.fromEntries(
    Object.keys(obj)
      .sort()
      .map((k) => [k, obj[k]]),
  );

/** The .json files that differ between two folders (missing on either side, or other content). */
function compareDirs(fresh, committed) {
  const list = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : []);
  const names = [...new Set([...list(fresh), ...list(committed)])].sort();
  return names.filter((f) => {
    const a = path.join(fresh, f);
    const b = path.join(committed, f);
    return (
      !fs.existsSync(a) || !fs.existsSync(b) || fs.readFileSync(a, 'utf8') !== fs.readFileSync(b, 'utf8')
    );
  });
}

const USAGE = `Usage: npm run stripe:schemas [-- --check]   (node scripts/stripe-schemas/generate.mjs)

Generates apps/stripe-emulator/schemas/*.json (JSON Schema of every object the emulator returns) from
the installed stripe package's type declarations, for the shape checks of the tests.
  --check      regenerate into a temporary folder and fail when the committed schemas differ
  -h, --help   this text`;

function main() {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const check = process.argv.includes('--check');
  const versions = readVersions();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stripe-schemas-'));
  const target = check ? path.join(tmp, 'out') : outDir;
  try {
    const wrapper = writeWrapper(tmp);
    const program = TJS.getProgramFromFiles(
      [wrapper],
      {
        strict: true,
        strictNullChecks: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        skipLibCheck: true,
      },
      tmp,
    );
    const gen = TJS.buildGenerator(
      program,
      {
        required: true,
        ref: true,
        aliasRef: false,
        topRef: false,
        strictNullChecks: true,
        noExtraProps: true,
        ignoreErrors: false,
      },
      [wrapper],
    );
    if (!gen) throw new Error('typescript-json-schema could not build a generator (type errors above?)');
    patchNaming(gen);
    const symbols = OBJECTS.filter((o) => !o.custom).map((o) => aliasOf(o.name));
    symbols.push('Top_EventBase');
    const raw = gen.getSchemaForSymbols(symbols);
    const events = eventObjectMap(program, wrapper);

    // 1. Fix-ups on every definition.
    const stats = { voidProps: new Set(), openEnums: 0, integers: 0, discriminated: 0 };
    const defs = {};
    for (const [name, def] of Object.entries(raw.definitions)) {
      if (name.startsWith('Top_')) continue;
      // Issuing receipts have fractional quantities; nothing of Issuing is ours, so leave its numbers alone.
      defs[name] = fixNode(def, undefined, stats, !name.startsWith('Issuing.'));
    }
    // `*_decimal` fields: the SDK parses them into Decimal objects, but on the wire they are strings.
    defs['Decimal'] = {
      description: 'A decimal number as a string on the wire (the SDK turns it into a Decimal object).',
      type: 'string',
      pattern: '^-?[0-9]+(\\.[0-9]+)?$',
    };
    delete defs['DecimalImpl'];
    delete defs['OtherString'];
    delete defs['Record<never,never>'];
    // Event.Data.Object / PreviousAttributes are empty interfaces in the SDK (any object): the Event schema
    // types data.object per event type instead.
    for (const open of ['Event.Data.Object', 'Event.Data.PreviousAttributes']) {
      if (!defs[open]) throw new Error(`Expected a definition ${open}`);
      defs[open] = { type: 'object' };
    }

    // 2. Top-level definition name of each object.
    const rootDef = (alias, name) => {
      const root = raw.definitions[alias];
      if (root?.$ref) return refName(root.$ref);
      // TJS inlines a root type at times (when it met the type first as a root): name it after the object.
      const inline = fixNode(root, undefined, stats);
      if (defs[name] && JSON.stringify(defs[name]) !== JSON.stringify(inline)) {
        throw new Error(`${name} is inline but a different definition ${name} exists`);
      }
      defs[name] = inline;
      return name;
    };
    const topDef = {};
    for (const o of OBJECTS)
      if (!o.custom && o.name !== 'List') topDef[o.name] = rootDef(aliasOf(o.name), o.name);
    const eventBase = rootDef('Top_EventBase', 'EventBase');
    topDef['List'] = 'List';
    defs['List'] = fixNode(raw.definitions[aliasOf('List')], undefined, stats);
    if (defs['List'].$ref) throw new Error('Expected the list envelope inline');
    defs['List'].description = 'The envelope of every list: `{ object: "list", data, has_more, url }`.';
    // The Event: EventBase plus, for every event type whose data.object is one of our objects, that object.
    topDef['Event'] = 'Event';
    const byObject = {};
    for (const [type, obj] of Object.entries(events)) (byObject[obj] ??= []).push(type);
    defs['Event'] = {
      description:
        'An event (EventBase with a closed `type`); for the event types whose `data.object` is one of the objects the emulator returns, `data.object` must be that object.',
      allOf: [
        { $ref: localRef(eventBase) },
        ...Object.keys(byObject)
          .sort()
          .map((obj) => ({
            if: { type: 'object', properties: { type: { enum: byObject[obj] } }, required: ['type'] },
            then: {
              type: 'object',
              properties: {
                data: { type: 'object', properties: { object: { $ref: localRef(topDef[obj]) } } },
              },
            },
          })),
      ],
    };

    // Unions of several objects (`string | Customer | DeletedCustomer`, `BankAccount | Card | Source`) choose
    // their branch by `object` (and `deleted`), so a violation is reported for that branch only.
    for (const name of Object.keys(defs)) defs[name] = discriminateUnions(defs[name], defs, stats);

    // 3. Keep what is reachable; split into one file per object plus a shared file.
    const reachable = new Set();
    const queue = Object.values(topDef);
    while (queue.length > 0) {
      const n = queue.pop();
      if (reachable.has(n)) continue;
      if (!defs[n]) throw new Error(`Dangling $ref to ${n}`);
      reachable.add(n);
      collectRefs(defs[n], new Set()).forEach((r) => queue.push(r));
    }
    const ownerOf = (defName) => {
      let best;
      for (const [obj, d] of Object.entries(topDef)) {
        const owns =
          defName === d || defName.startsWith(d + '.') || (obj === 'Event' && defName === eventBase);
        if (owns && (!best || d.length > topDef[best].length)) best = obj;
      }
      return best;
    };
    const fileOf = (obj) => (obj ? `${obj}.json` : SHARED_FILE);
    const files = {};
    for (const n of [...reachable].sort()) {
      const file = fileOf(ownerOf(n));
      (files[file] ??= {})[n] = defs[n];
    }

    fs.mkdirSync(target, { recursive: true });
    for (const f of fs.readdirSync(target)) if (f.endsWith('.json')) fs.rmSync(path.join(target, f));
    const written = {};
    for (const [file, fileDefs] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const rewritten = {};
      for (const [n, d] of Object.entries(sortKeys(fileDefs))) {
        rewritten[n] = rewriteRefs(d, (target) => {
          const targetFile = fileOf(ownerOf(target));
          return targetFile === file ? localRef(target) : `${targetFile}${localRef(target)}`;
        });
      }
      const obj = file === SHARED_FILE ? undefined : file.slice(0, -'.json'.length);
      const schema = {
        $schema: DRAFT7,
        $id: SCHEMA_BASE + file,
        ...(obj
          ? { title: obj, description: defs[topDef[obj]]?.description, $ref: localRef(topDef[obj]) }
          : { title: 'Definitions shared by the Stripe object schemas' }),
        definitions: rewritten,
      };
      if (schema.description === undefined) delete schema.description;
      const text = JSON.stringify(schema, null, 2) + '\n';
      fs.writeFileSync(path.join(target, file), text);
      written[file] = text.length;
    }
    const index = {
      description:
        'JSON Schemas of the Stripe objects the emulator returns, generated by scripts/stripe-schemas/generate.mjs from the installed stripe SDK type declarations. Do not edit by hand.',
      stripe: versions.stripe,
      apiVersion: versions.apiVersion,
      typescriptJsonSchema: versions.typescriptJsonSchema,
      typescript: versions.typescript,
      generator: versions.generator,
      schemaBase: SCHEMA_BASE,
      shared: SHARED_FILE,
      objects: Object.fromEntries(OBJECTS.map((o) => [o.name, fileOf(o.name)])),
      eventObjects: events,
    };
    fs.writeFileSync(path.join(target, 'index.json'), JSON.stringify(index, null, 2) + '\n');
    const total = Object.values(written).reduce((a, b) => a + b, 0);
    log(
      `stripe-schemas: stripe@${versions.stripe} (${versions.apiVersion}): ${Object.keys(written).length} files, ` +
        `${(total / 1024).toFixed(0)} KiB, ${reachable.size} definitions; fix-ups: ${stats.openEnums} open enums, ` +
        `${stats.integers} integer fields, ${stats.discriminated} discriminated unions, absent-only properties: ${[...stats.voidProps].sort().join(', ')}`,
    );
    if (check) {
      const stale = compareDirs(target, outDir);
      if (stale.length > 0) {
        log(
          `stripe-schemas: ${path.relative(repoRoot, outDir)} is stale (${stale.join(', ')}): run npm run stripe:schemas`,
        );
        process.exitCode = 1;
      } else {
        log(`stripe-schemas: ${path.relative(repoRoot, outDir)} is up to date`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
