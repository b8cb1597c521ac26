import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  addMonthsClamped,
  boundary,
  daysInMonth,
  indexOf,
  periodContaining,
  type Recurrence,
} from './calendar.js';

const at = (iso: string): number => Date.parse(iso) / 1000;
const iso = (t: number): string => new Date(t * 1000).toISOString();
const monthly: Recurrence = { interval: 'month', intervalCount: 1 };

describe('calendar', () => {
  it('knows month lengths including leap years', () => {
    expect(daysInMonth(2024, 1)).toBe(29);
    expect(daysInMonth(2025, 1)).toBe(28);
    expect(daysInMonth(2100, 1)).toBe(28);
    expect(daysInMonth(2000, 1)).toBe(29);
    expect(daysInMonth(2025, 3)).toBe(30);
  });

  it('clamps a Jan 31 anchor to Feb 28/29 and returns to the 31st afterwards', () => {
    const anchor = at('2025-01-31T10:20:30Z');
    expect(iso(boundary(anchor, monthly, 1))).toBe('2025-02-28T10:20:30.000Z');
    expect(iso(boundary(anchor, monthly, 2))).toBe('2025-03-31T10:20:30.000Z');
    expect(iso(boundary(anchor, monthly, 3))).toBe('2025-04-30T10:20:30.000Z');
    const leap = at('2024-01-31T00:00:00Z');
    expect(iso(boundary(leap, monthly, 1))).toBe('2024-02-29T00:00:00.000Z');
  });

  it('clamps a Feb 29 yearly anchor to Feb 28 in common years', () => {
    const anchor = at('2024-02-29T12:00:00Z');
    const yearly: Recurrence = { interval: 'year', intervalCount: 1 };
    expect(iso(boundary(anchor, yearly, 1))).toBe('2025-02-28T12:00:00.000Z');
    expect(iso(boundary(anchor, yearly, 4))).toBe('2028-02-29T12:00:00.000Z');
  });

  it('handles interval counts, weeks and days', () => {
    const anchor = at('2025-01-15T00:00:00Z');
    expect(iso(boundary(anchor, { interval: 'month', intervalCount: 3 }, 1))).toBe(
      '2025-04-15T00:00:00.000Z',
    );
    expect(iso(boundary(anchor, { interval: 'week', intervalCount: 2 }, 1))).toBe('2025-01-29T00:00:00.000Z');
    expect(iso(boundary(anchor, { interval: 'day', intervalCount: 1 }, 17))).toBe('2025-02-01T00:00:00.000Z');
    expect(iso(addMonthsClamped(at('2025-12-31T00:00:00Z'), 2))).toBe('2026-02-28T00:00:00.000Z');
  });

  it('finds the period containing an instant', () => {
    const anchor = at('2025-01-31T00:00:00Z');
    const p = periodContaining(anchor, monthly, at('2025-03-01T00:00:00Z'));
    expect(iso(p.start)).toBe('2025-02-28T00:00:00.000Z');
    expect(iso(p.end)).toBe('2025-03-31T00:00:00.000Z');
    expect(indexOf(anchor, monthly, anchor - 1)).toBe(-1);
    expect(indexOf(anchor, monthly, anchor)).toBe(0);
  });

  it('property: boundaries strictly increase and each instant lies in exactly its period', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2090-01-01T00:00:00Z') }),
        fc.constantFrom<Recurrence['interval']>('day', 'week', 'month', 'year'),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 60 * 86_400 * 12 }),
        (anchor, interval, intervalCount, offset) => {
          const r: Recurrence = { interval, intervalCount };
          const t = anchor + offset;
          const k = indexOf(anchor, r, t);
          expect(boundary(anchor, r, k)).toBeLessThanOrEqual(t);
          expect(boundary(anchor, r, k + 1)).toBeGreaterThan(t);
          expect(boundary(anchor, r, k + 1)).toBeGreaterThan(boundary(anchor, r, k));
        },
      ),
    );
  });
});
