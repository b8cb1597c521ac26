import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ApiError } from './api-error.js';
import { decodeCursor, encodeCursor, toPage } from './pagination.js';

describe('cursor pagination helpers', () => {
  it('round-trips any position it issues, for each shape', () => {
    const instant = fc
      .date({
        min: new Date('0001-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59.999Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
    fc.assert(
      fc.property(instant, fc.uuid(), (value, id) => {
        expect(decodeCursor(encodeCursor({ value, id }), { value: 'instant', id: 'uuid' })).toEqual({
          value,
          id,
        });
      }),
    );
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.stringMatching(/^evt_[A-Za-z0-9]{1,40}$/), (value, id) => {
        expect(decodeCursor(encodeCursor({ value, id }), { value: 'integer', id: 'text' })).toEqual({
          value,
          id,
        });
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), (n) => {
        const position = { value: String(n), id: String(n) };
        expect(decodeCursor(encodeCursor(position), { value: 'digits', id: 'digits' })).toEqual(position);
      }),
    );
  });

  it('rejects cursors it did not issue, or issued for another shape, with a 400 naming the param', () => {
    const at = '2026-11-30T10:00:00.000Z';
    const id = '8c4d7a1e-2f3b-4c5d-9e6f-7a8b9c0d1e2f';
    const cursor = (value: unknown, tie: unknown) =>
      Buffer.from(JSON.stringify([value, tie])).toString('base64url');
    const shape = { value: 'instant', id: 'uuid' } as const;
    expect(decodeCursor(cursor(at, id), shape)).toEqual({ value: at, id });
    for (const bad of [
      'abc',
      Buffer.from('{"x":1}').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
      // Times PostgreSQL would refuse or read differently, though JavaScript parses some of them.
      cursor('2031', id),
      cursor('2026-02-30T10:00:00.000Z', id),
      cursor('2026-11-30 10:00:00', id),
      cursor('2026-11-30T10:00:00Z', id),
      cursor(1764496800000, id),
      // Ids that are not this list's.
      cursor(at, 'not-a-uuid'),
      cursor(at, `${id}x`),
    ]) {
      let thrown: unknown;
      try {
        decodeCursor(bad, shape);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ApiError);
      expect(thrown).toMatchObject({ code: 'validation_failed', options: { param: 'cursor' } });
    }
    expect(() => decodeCursor(cursor(at, id), { value: 'integer', id: 'uuid' })).toThrow(ApiError);
    expect(() => decodeCursor(cursor(2 ** 53, id), { value: 'integer', id: 'uuid' })).toThrow(ApiError);
    expect(() => decodeCursor(cursor('12a', '12'), { value: 'digits', id: 'digits' })).toThrow(ApiError);
    expect(() => decodeCursor(cursor(at, ''), { value: 'instant', id: 'text' })).toThrow(ApiError);
    // PostgreSQL refuses a NUL in text and a bigint past 2^63 - 1: both would be 500s.
    expect(() => decodeCursor(cursor(at, 'evt_\u0000'), { value: 'instant', id: 'text' })).toThrow(ApiError);
    const max = '9223372036854775807';
    expect(decodeCursor(cursor(max, max), { value: 'digits', id: 'digits' })).toEqual({
      value: max,
      id: max,
    });
    expect(() => decodeCursor(cursor('9223372036854775808', '1'), { value: 'digits', id: 'digits' })).toThrow(
      ApiError,
    );
  });

  it('uses the extra row only to tell that more follow', () => {
    const rows = [1, 2, 3].map((n) => ({ id: `id${n}`, n }));
    const page = toPage(rows, 2, (r) => ({ value: r.n, id: r.id }));
    expect(page.data.map((r) => r.n)).toEqual([1, 2]);
    expect(page.has_more).toBe(true);
    expect(decodeCursor(page.next_cursor ?? undefined, { value: 'integer', id: 'text' })).toEqual({
      value: 2,
      id: 'id2',
    });
    const last = toPage(rows.slice(0, 2), 2, (r) => ({ value: r.n, id: r.id }));
    expect(last).toEqual({ data: rows.slice(0, 2), has_more: false, next_cursor: null });
  });
});
