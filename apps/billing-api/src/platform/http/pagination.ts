import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ApiError } from './api-error.js';

/** Query parameters of every list endpoint (R-API-4). */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20, description: 'Page size.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `next_cursor` of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not a cursor this API issued' })
  cursor?: string;
}

export class PageMetaDto {
  @ApiProperty({ description: 'True when another page follows.' })
  has_more!: boolean;

  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` to get the next page.' })
  next_cursor!: string | null;
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** The position after which the next page starts: the sort value and the id that breaks ties. */
export interface CursorPosition {
  value: string | number;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.value, position.id]), 'utf8').toString('base64url');
}

/**
 * What a list's cursor holds, as the list wrote it: its sort value (`instant`: a `toISOString()` time;
 * `integer`: a safe integer; `digits`: a bigint as a string) and the id that breaks ties (`uuid`,
 * `digits`, or `text`: an id such as Stripe's `evt_…`, of letters, digits, `_` and `-`). A cursor is checked against it before any of it
 * reaches SQL: PostgreSQL would refuse a forged time or id with an error, a 500.
 */
export interface CursorShape {
  value: 'instant' | 'integer' | 'digits';
  id: 'uuid' | 'digits' | 'text';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGITS = /^\d{1,19}$/;
const BIGINT_MAX = 2n ** 63n - 1n;
/** Ids such as Stripe's (`evt_…`): no character PostgreSQL refuses in text (NUL) or that needs care. */
const TEXT_ID = /^[A-Za-z0-9_-]{1,255}$/;
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

function fits(value: string | number, kind: CursorShape['value'] | CursorShape['id']): boolean {
  switch (kind) {
    case 'instant': {
      if (typeof value !== 'string') return false;
      const ms = Date.parse(value);
      return ms >= FIRST_INSTANT && ms <= LAST_INSTANT && new Date(ms).toISOString() === value;
    }
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'digits':
      return typeof value === 'string' && DIGITS.test(value) && BigInt(value) <= BIGINT_MAX;
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
    case 'text':
      return typeof value === 'string' && TEXT_ID.test(value);
  }
}

/** The position a cursor names, checked against the list's shape; a 400 for anything this API did not issue. */
export function decodeCursor(cursor: string | undefined, shape: CursorShape): CursorPosition | null {
  if (cursor === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      (typeof parsed[0] === 'string' || typeof parsed[0] === 'number') &&
      typeof parsed[1] === 'string' &&
      fits(parsed[0], shape.value) &&
      fits(parsed[1], shape.id)
    ) {
      return { value: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new ApiError('validation_failed', 'cursor is not a cursor this API issued', { param: 'cursor' });
}

/**
 * Builds a page from `limit + 1` rows fetched in a stable order (sort value, then id): the extra row only
 * tells whether another page follows.
 */
export function toPage<T>(rows: T[], limit: number, position: (row: T) => CursorPosition): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return {
    data,
    has_more: hasMore,
    next_cursor: hasMore && last !== undefined ? encodeCursor(position(last)) : null,
  };
}
