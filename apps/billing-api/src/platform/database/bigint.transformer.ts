import type { ValueTransformer } from 'typeorm';

/**
 * pg returns `bigint` columns as strings. Money and counters are integers in minor units (R-CORE-1):
 * this transformer turns them into safe JavaScript integers and refuses anything else, in both
 * directions. NULL is rejected rather than silently becoming 0 (STYLE.md "Boundaries").
 */
export const bigintTransformer: ValueTransformer = {
  to(value: unknown): string {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER))
      return value.toString();
    throw new TypeError(`bigint column: expected a safe integer, got ${describe(value)}`);
  },
  from(value: unknown): number {
    if (typeof value === 'string' && /^-?\d+$/.test(value)) {
      const n = Number(value);
      if (Number.isSafeInteger(n)) return n;
    }
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    throw new TypeError(`bigint column: expected a safe integer from the database, got ${describe(value)}`);
  },
};

/** The same for nullable columns, where NULL is a meaningful "not known yet". */
export const nullableBigintTransformer: ValueTransformer = {
  to: (value: unknown): string | null => (value === null || value === undefined ? null : bigintTransformer.to(value)),
  from: (value: unknown): number | null => (value === null ? null : bigintTransformer.from(value)),
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  return `${typeof value} ${String(value).slice(0, 40)}`;
}
