import { describe, expect, it } from '@jest/globals';
import { DomainInvariantError } from '../kernel/errors.js';
import { decideStaleness } from './staleness.js';

describe('decideStaleness (R-SM-3)', () => {
  it.each([
    ['nothing applied yet', null, { eventCreated: 100 }, 'apply'],
    ['newer event', { eventCreated: 100 }, { eventCreated: 101 }, 'apply'],
    ['older event', { eventCreated: 100 }, { eventCreated: 99 }, 'skip_stale'],
    ['same second, no versions', { eventCreated: 100 }, { eventCreated: 100 }, 'refetch'],
    ['same second, one version', { eventCreated: 100, objectVersion: 3 }, { eventCreated: 100 }, 'refetch'],
    [
      'same second, newer version',
      { eventCreated: 100, objectVersion: 3 },
      { eventCreated: 100, objectVersion: 4 },
      'apply',
    ],
    [
      'same second, older version',
      { eventCreated: 100, objectVersion: 3 },
      { eventCreated: 100, objectVersion: 2 },
      'skip_stale',
    ],
    [
      'same second, same version',
      { eventCreated: 100, objectVersion: 3 },
      { eventCreated: 100, objectVersion: 3 },
      'skip_stale',
    ],
    [
      'older event with a higher version',
      { eventCreated: 100, objectVersion: 1 },
      { eventCreated: 99, objectVersion: 9 },
      'skip_stale',
    ],
  ] as const)('%s', (_name, lastApplied, incoming, expected) => {
    expect(decideStaleness({ lastApplied, incoming })).toBe(expected);
  });

  it('throws on timestamps that are not whole unix seconds', () => {
    expect(() => decideStaleness({ lastApplied: null, incoming: { eventCreated: 1.5 } })).toThrow(
      DomainInvariantError,
    );
    expect(() =>
      decideStaleness({ lastApplied: { eventCreated: -1 }, incoming: { eventCreated: 1 } }),
    ).toThrow(DomainInvariantError);
  });

  it('re-reads an event not newer than a change the app made at Stripe itself, whatever it says', () => {
    const lastApplied = { eventCreated: 100, appChangedAt: 160 };
    expect(decideStaleness({ lastApplied, incoming: { eventCreated: 150 } })).toBe('refetch');
    expect(decideStaleness({ lastApplied, incoming: { eventCreated: 160 } })).toBe('refetch');
    expect(decideStaleness({ lastApplied, incoming: { eventCreated: 161 } })).toBe('apply');
    expect(decideStaleness({ lastApplied, incoming: { eventCreated: 99 } })).toBe('skip_stale');
  });
});
