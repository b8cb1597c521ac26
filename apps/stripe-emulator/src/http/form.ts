import qs from 'qs';
import { invalidRequest } from './errors.js';

/** A decoded form value: strings at the leaves, nested objects and arrays above them. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormParams = { [key: string]: FormValue };

const OPTIONS: qs.IParseOptions = {
  depth: 12,
  arrayLimit: 1000,
  parameterLimit: 10000,
  allowPrototypes: false,
  plainObjects: true,
};

/**
 * Decodes a Stripe form body or query string: `a[b][c]=v`, `items[0][price]=p`, `a[]=v`. Values stay
 * strings; an empty value is kept as `''` (it means "unset" to the resource).
 */
export function decodeForm(input: string): FormParams {
  if (input.length === 0) return {};
  const parsed = qs.parse(input, OPTIONS) as unknown;
  return normalize(parsed) as FormParams;
}

/** qs turns sparse or large indexed arrays into objects ({ '0': .. }); turn them back into arrays. */
function normalize(value: unknown): FormValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const out: { [key: string]: FormValue } = {};
    for (const [k, v] of entries) out[k] = normalize(v);
    if (entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k))) {
      return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([k]) => out[k] as FormValue);
    }
    return out;
  }
  return '';
}

export function isObject(value: unknown): value is { [key: string]: FormValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Optional string parameter; `''` is returned as `''` so callers can tell "unset" from "absent". */
export function optString(params: FormParams, name: string, path = name): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${path}`, path);
  return value;
}

/** Optional non-empty string parameter (`''` counts as absent). */
export function optNonEmpty(params: FormParams, name: string, path = name): string | undefined {
  const value = optString(params, name, path);
  return value === '' ? undefined : value;
}

export function reqString(params: FormParams, name: string, path = name): string {
  const value = optNonEmpty(params, name, path);
  if (value === undefined)
    throw invalidRequest(`Missing required param: ${path}.`, path, 'parameter_missing');
  return value;
}

export function optInt(params: FormParams, name: string, path = name): number | undefined {
  const value = optString(params, name, path);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw invalidRequest(`Invalid integer: ${value}`, path);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw invalidRequest(`Invalid integer: ${value}`, path);
  return n;
}

export function reqInt(params: FormParams, name: string, path = name): number {
  const value = optInt(params, name, path);
  if (value === undefined)
    throw invalidRequest(`Missing required param: ${path}.`, path, 'parameter_missing');
  return value;
}

export function optBool(params: FormParams, name: string, path = name): boolean | undefined {
  const value = optString(params, name, path);
  if (value === undefined || value === '') return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidRequest(`Invalid boolean: ${value}`, path);
}

export function optObject(params: FormParams, name: string, path = name): FormParams | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (!isObject(value)) throw invalidRequest(`Invalid object`, path);
  return value;
}

/** `a[0]=x&a[1]=y` or `a[]=x` -> ['x', 'y']; a single string counts as one element. */
export function optStringArray(params: FormParams, name: string, path = name): string[] | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value === '') return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      if (typeof v !== 'string') throw invalidRequest(`Invalid array`, `${path}[${i}]`);
      return v;
    });
  }
  throw invalidRequest(`Invalid array`, path);
}

/** `items[0][price]=..` -> [{ price: .. }]. */
export function optObjectArray(params: FormParams, name: string, path = name): FormParams[] | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value === '') return [];
  if (!Array.isArray(value)) throw invalidRequest(`Invalid array`, path);
  return value.map((v, i) => {
    if (!isObject(v)) throw invalidRequest(`Invalid object`, `${path}[${i}]`);
    return v;
  });
}

/**
 * Applies Stripe metadata semantics: `metadata[k]=v` sets, `metadata[k]=` removes a key, `metadata=`
 * clears everything. Returns the new metadata object (the input is not modified).
 */
export function applyMetadata(
  current: Record<string, string> | undefined,
  params: FormParams,
  name = 'metadata',
): Record<string, string> {
  const base: Record<string, string> = { ...(current ?? {}) };
  const value = params[name];
  if (value === undefined) return base;
  if (value === '') return {};
  if (!isObject(value)) throw invalidRequest('Invalid object', name);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalidRequest('Metadata values must be strings', `${name}[${k}]`);
    if (v === '') delete base[k];
    else base[k] = v;
  }
  if (Object.keys(base).length > 50) throw invalidRequest('Metadata can have at most 50 keys.', name);
  return base;
}

/** `created[gte]=..` / `created=..` range filter, as in list endpoints. */
export function matchesRange(value: number, params: FormParams, name: string): boolean {
  const raw = params[name];
  if (raw === undefined || raw === '') return true;
  if (typeof raw === 'string') return value === Number(raw);
  if (!isObject(raw)) return true;
  const bound = (k: string): number | undefined => {
    const v = raw[k];
    return typeof v === 'string' && v !== '' ? Number(v) : undefined;
  };
  const gt = bound('gt');
  const gte = bound('gte');
  const lt = bound('lt');
  const lte = bound('lte');
  if (gt !== undefined && !(value > gt)) return false;
  if (gte !== undefined && !(value >= gte)) return false;
  if (lt !== undefined && !(value < lt)) return false;
  if (lte !== undefined && !(value <= lte)) return false;
  return true;
}
