import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { startOfLocalDay, trialEndFor, zoneOffsetMs } from './trial-end.js';

const local = (at: Date, timeZone: string): string =>
  new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(at);

describe('trial end at local midnight (R-EDGE-3)', () => {
  it('Pacific/Kiritimati (UTC+14): 14 days on, at the next local 00:00, which is 10:00 UTC the day before', () => {
    // 2031-05-01 09:00 UTC is 23:00 on 1 May in Kiritimati.
    const end = trialEndFor(new Date('2031-05-01T09:00:00Z'), 'Pacific/Kiritimati');
    expect(end.toISOString()).toBe('2031-05-15T10:00:00.000Z');
    expect(local(end, 'Pacific/Kiritimati')).toBe('2031-05-16 00:00:00');
  });

  it('America/Adak: UTC−9 in summer (HDT), UTC−10 in winter (HST), and across the November change', () => {
    const summer = trialEndFor(new Date('2031-05-01T09:00:00Z'), 'America/Adak');
    expect(summer.toISOString()).toBe('2031-05-15T09:00:00.000Z');
    expect(local(summer, 'America/Adak')).toBe('2031-05-15 00:00:00');
    const winter = trialEndFor(new Date('2031-12-01T09:00:00Z'), 'America/Adak');
    expect(winter.toISOString()).toBe('2031-12-15T10:00:00.000Z');
    // Started in HDT, ends in HST (DST ends 2 Nov 2031): local midnight still, by the offset then.
    const across = trialEndFor(new Date('2031-10-25T12:00:00Z'), 'America/Adak');
    expect(local(across, 'America/Adak')).toBe('2031-11-09 00:00:00');
    expect(zoneOffsetMs(across.getTime(), 'America/Adak')).toBe(-10 * 3_600_000);
  });

  it('a trial started exactly at local midnight ends exactly 14 local days later', () => {
    const start = startOfLocalDay(2031, 3, 1, 'Europe/Berlin');
    expect(local(trialEndFor(start, 'Europe/Berlin'), 'Europe/Berlin')).toBe('2031-03-15 00:00:00');
  });

  it('for any start and zone: at least 14 days, less than 15 days and a DST hour, and at local 00:00', () => {
    const zones = [
      'Pacific/Kiritimati',
      'America/Adak',
      'UTC',
      'Asia/Kathmandu',
      'America/St_Johns',
      'Europe/Berlin',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.constantFrom(...zones),
        (ms, zone) => {
          const end = trialEndFor(new Date(ms), zone).getTime();
          expect(end - ms).toBeGreaterThanOrEqual(14 * 86_400_000);
          expect(end - ms).toBeLessThan(15 * 86_400_000 + 3_600_000);
          expect(local(new Date(end), zone).slice(11)).toBe('00:00:00');
        },
      ),
    );
  });
});
