import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ApiError } from './api-error.js';
import { decodeCursor, encodeCursor, toPage } from './pagination.js';

describe('cursor pagination helpers', () => {
  it('round-trips any position', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer()), fc.uuid(), (value, id) => {
        expect(decodeCursor(encodeCursor({ value, id }))).toEqual({ value, id });
      }),
    );
  });

  it('rejects cursors it did not issue with a 400 naming the param', () => {
    for (const bad of [
      'abc',
      Buffer.from('{"x":1}').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(ApiError);
    }
  });

  it('uses the extra row only to tell that more follow', () => {
    const rows = [1, 2, 3].map((n) => ({ id: `id${n}`, n }));
    const page = toPage(rows, 2, (r) => ({ value: r.n, id: r.id }));
    expect(page.data.map((r) => r.n)).toEqual([1, 2]);
    expect(page.has_more).toBe(true);
    expect(decodeCursor(page.next_cursor ?? undefined)).toEqual({ value: 2, id: 'id2' });
    const last = toPage(rows.slice(0, 2), 2, (r) => ({ value: r.n, id: r.id }));
    expect(last).toEqual({ data: rows.slice(0, 2), has_more: false, next_cursor: null });
  });
});
