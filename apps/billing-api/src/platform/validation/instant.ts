import { applyDecorators } from '@nestjs/common';
import { IsISO8601, IsString, Matches } from 'class-validator';

/**
 * A calendar date (read as midnight UTC) or a date-time with `Z` or an offset: never a local time whose
 * instant would depend on the database server's time zone, nor the other ISO 8601 forms (weeks,
 * ordinal days, `2026-01`) that class-validator accepts and PostgreSQL refuses with an error.
 */
const INSTANT =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-](?:0\d|1[0-5]):[0-5]\d))?$/;

/** Validates a query parameter that names an instant (see {@link toInstant}). */
export function IsInstant(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Matches(INSTANT, { message: '$property must be a date (2026-01-31) or a date-time with Z or an offset' }),
    IsISO8601({ strict: true }),
  );
}

/** A value {@link IsInstant} accepted, as an unambiguous instant for SQL: a bare date is midnight UTC. */
export function toInstant(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
}
