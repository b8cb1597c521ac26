import { describe, expect, it } from '@jest/globals';
import { mirrorWindowStart } from './invoice.queries.js';

describe('the invoice mirror window (two calendar years)', () => {
  it.each([
    ['2033-03-15T12:00:00.000Z', '2031-03-15T12:00:00.000Z'],
    // Over a leap day: the same calendar date, not 730 days.
    ['2032-03-01T00:00:00.000Z', '2030-03-01T00:00:00.000Z'],
    // From 29 February: the Date arithmetic rolls over to 1 March two years before.
    ['2032-02-29T08:30:00.000Z', '2030-03-01T08:30:00.000Z'],
  ])('at %s it starts at %s', (now, start) => {
    expect(mirrorWindowStart(new Date(now)).toISOString()).toBe(start);
  });
});
