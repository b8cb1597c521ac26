import type { Account } from '../core/state.js';
import { invalidRequest } from './errors.js';

/** Turns an id (the value of an expandable field) into the object; `undefined` leaves the id. */
export type Expander = (account: Account, id: string, parent: Record<string, unknown>) => unknown;

const registry = new Map<string, Map<string, Expander>>();

/** Computes an includable field (absent from the object unless named in `expand[]`). */
export type Includer = (account: Account, parent: Record<string, unknown>) => unknown;

const includables = new Map<string, Includer>();

/**
 * Registers an includable field: Stripe leaves some fields out of an object unless they are asked for
 * with `expand[]` (e.g. `invoice.confirmation_secret`). The stored object never holds it; the
 * includer computes it when a path names it.
 */
export function registerIncludable(objectType: string, field: string, includer: Includer): void {
  includables.set(`${objectType}.${field}`, includer);
}

/**
 * Registers how to expand `field` on objects whose `object` is `objectType` (e.g. 'subscription',
 * 'latest_invoice'). Fields inside plain sub-objects use a dotted name
 * ('customer', 'invoice_settings.default_payment_method'). `objectType` '*' applies to every object.
 */
export function registerExpander(objectType: string, field: string, expander: Expander): void {
  let fields = registry.get(objectType);
  if (!fields) {
    fields = new Map();
    registry.set(objectType, fields);
  }
  fields.set(field, expander);
}

function lookup(objectType: string, field: string): Expander | undefined {
  return registry.get(objectType)?.get(field) ?? registry.get('*')?.get(field);
}

const MAX_DEPTH = 4;

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Applies `expand[]` paths (dotted, up to four levels, `data.` prefix on lists) to a response value.
 * Objects on the path are copied, so stored objects are never modified.
 */
export function applyExpand(account: Account, value: unknown, paths: readonly string[]): unknown {
  let result = value;
  for (const path of paths) {
    if (!path) continue;
    const segments = path.split('.');
    const expandable = segments.filter((s) => s !== 'data').length;
    if (expandable > MAX_DEPTH) {
      throw invalidRequest(
        `You cannot expand more than ${MAX_DEPTH} levels of a property. Property: ${path}`,
        'expand',
      );
    }
    result = expandAt(account, result, segments, 0, path, undefined, '');
  }
  return result;
}

function expandAt(
  account: Account,
  value: unknown,
  segments: string[],
  index: number,
  fullPath: string,
  ownerType: string | undefined,
  prefix: string,
): unknown {
  if (index >= segments.length) return value;
  if (Array.isArray(value)) {
    return value.map((v) => expandAt(account, v, segments, index, fullPath, ownerType, prefix));
  }
  if (!isRecord(value)) return value;
  const segment = segments[index] as string;
  if (value.object === 'list' && Array.isArray(value.data) && segment === 'data') {
    return {
      ...value,
      data: value.data.map((item) => expandAt(account, item, segments, index + 1, fullPath, undefined, '')),
    };
  }
  const type = typeof value.object === 'string' && prefix === '' ? value.object : ownerType;
  if (type === undefined) return value;
  const current = value[segment];
  const fieldName = prefix + segment;
  const expander = lookup(type, fieldName);
  let next: unknown = current;
  if (typeof current === 'string') {
    if (!expander) throw cannotExpand(fullPath);
    const expanded = expander(account, current, value);
    if (expanded !== undefined) next = expanded;
  } else if (current === undefined && includables.has(`${type}.${fieldName}`)) {
    next = includables.get(`${type}.${fieldName}`)!(account, value);
  } else if (current === null || current === undefined) {
    if (!expander && current === undefined && index === segments.length - 1) throw cannotExpand(fullPath);
    return value;
  } else if (isRecord(current) && typeof current.object !== 'string' && index < segments.length - 1) {
    // A plain sub-object such as `invoice_settings`: keep the owner's type, extend the dotted prefix.
    return {
      ...value,
      [segment]: expandAt(account, current, segments, index + 1, fullPath, type, `${fieldName}.`),
    };
  }
  return { ...value, [segment]: expandAt(account, next, segments, index + 1, fullPath, undefined, '') };
}

function cannotExpand(path: string): Error {
  return invalidRequest(`This property cannot be expanded (${path}).`, 'expand');
}

/** Reads `expand` from decoded params (`expand[0]=a`, `expand[]=a` or `expand=a`). */
export function expandParam(value: unknown): string[] {
  if (value === undefined || value === '') return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
