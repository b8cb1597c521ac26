import type { ValueTransformer } from 'typeorm';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `string "${value.slice(0, 40)}"`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return `${typeof value} ${value}`;
  return typeof value;
}

/** To the database: a safe integer, written as its decimal string. */
export function bigintToDatabase(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (
    typeof value === 'bigint' &&
    value <= BigInt(Number.MAX_SAFE_INTEGER) &&
    value >= BigInt(Number.MIN_SAFE_INTEGER)
  )
    return value.toString();
  throw new TypeError(`bigint column: expected a safe integer, got ${describe(value)}`);
}

/** From the database: pg's decimal string, refused unless it is a safe integer. */
export function bigintFromDatabase(value: unknown): number {
  if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new TypeError(`bigint column: expected a safe integer from the database, got ${describe(value)}`);
}

/**
 * pg returns `bigint` columns as strings. Money and counters are integers in minor units (R-CORE-1):
 * this transformer turns them into safe JavaScript integers and refuses anything else, in both
 * directions. NULL is rejected rather than silently becoming 0 (STYLE.md "Boundaries").
 */
export const bigintTransformer: ValueTransformer = { to: bigintToDatabase, from: bigintFromDatabase };

/** The same for nullable columns, where NULL is a meaningful "not known yet". */
export const nullableBigintTransformer: ValueTransformer = {
  to: (value: unknown): string | null =>
    value === null || value === undefined ? null : bigintToDatabase(value),
  from: (value: unknown): number | null => (value === null ? null : bigintFromDatabase(value)),
};
