import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DomainInvariantError } from '../kernel/errors.js';
import {
  dunningPolicyFromJson,
  completeDunningSteps,
  DEFAULT_DUNNING_POLICY,
  DEFAULT_GRACE_POLICY,
  gracePolicyOf,
  isGraceExhausted,
  nextDunningAction,
  openDunningCase,
  resolveDunningCase,
  stepDueAt,
  validateDunningPolicy,
  type DunningCase,
  type DunningPolicy,
} from './dunning.js';

const DAY = 86_400_000;
const FAILED = new Date('2026-03-01T09:30:00.000Z');
const day = (n: number): Date => new Date(FAILED.getTime() + n * DAY);
const ids = (r: { due: { id: string }[] }): string[] => r.due.map((s) => s.id);
const codes = (policy: DunningPolicy): string[] => {
  const result = validateDunningPolicy(policy);
  return result.ok ? [] : result.error.map((i) => i.code);
};

describe('DEFAULT_DUNNING_POLICY (R-DUN-1..3)', () => {
  it('is day 0 email 1, day 3 retry + email 2, day 5 retry + email 3, day 7 suspend + email', () => {
    expect(
      DEFAULT_DUNNING_POLICY.steps.map((s) => [
        s.dayOffset,
        s.actions.map((a) => ('template' in a ? a.template : a.kind)),
      ]),
    ).toEqual([
      [0, ['payment_failed_1']],
      [3, ['retry_payment', 'payment_failed_2']],
      [5, ['retry_payment', 'payment_failed_3']],
      [7, ['suspend', 'account_suspended']],
    ]);
    expect(validateDunningPolicy(DEFAULT_DUNNING_POLICY)).toEqual({
      ok: true,
      value: DEFAULT_DUNNING_POLICY,
    });
  });

  it('implies the SPEC grace policy: 7 days and 3 attempts', () => {
    expect(gracePolicyOf(DEFAULT_DUNNING_POLICY)).toEqual(DEFAULT_GRACE_POLICY);
    expect(DEFAULT_GRACE_POLICY).toEqual({ graceDays: 7, minFailedAttempts: 3 });
    expect(() =>
      gracePolicyOf({ steps: [{ id: 'a', dayOffset: 0, actions: [{ kind: 'retry_payment' }] }] }),
    ).toThrow(DomainInvariantError);
  });
});

describe('validateDunningPolicy', () => {
  const step = (id: string, dayOffset: number, kind: 'retry_payment' | 'suspend' = 'retry_payment') => ({
    id,
    dayOffset,
    actions: [{ kind }],
  });

  it('reports every kind of bad schedule', () => {
    expect(codes({ steps: [] })).toEqual(['no_steps']);
    expect(codes({ steps: [step('a', 0), step('a', 1, 'suspend')] })).toEqual(['duplicate_step_id']);
    expect(codes({ steps: [step('a', 2), step('b', 2, 'suspend')] })).toEqual(['steps_not_ascending']);
    expect(codes({ steps: [step('a', -1), step('b', 1.5, 'suspend')] })).toEqual([
      'invalid_day_offset',
      'invalid_day_offset',
    ]);
    expect(codes({ steps: [{ id: 'a', dayOffset: 0, actions: [] }, step('b', 1, 'suspend')] })).toEqual([
      'empty_actions',
    ]);
    expect(codes({ steps: [step('a', 0, 'suspend'), step('b', 1)] })).toEqual(['suspend_not_last']);
    expect(codes({ steps: [step('a', 0)] })).toEqual(['no_suspend_step']);
    const unknown = {
      id: 'b',
      dayOffset: 1,
      actions: [{ kind: 'send_email', template: 'hello' }],
    } as unknown as DunningPolicy['steps'][number];
    expect(codes({ steps: [step('a', 0), unknown, step('c', 2, 'suspend')] })).toEqual(['unknown_action']);
    const weird = {
      id: 'b',
      dayOffset: 1,
      actions: [{ kind: 'refund' }],
    } as unknown as DunningPolicy['steps'][number];
    expect(codes({ steps: [weird, step('c', 2, 'suspend')] })).toEqual(['unknown_action']);
  });
});

describe('nextDunningAction (R-DUN-5)', () => {
  const open = openDunningCase(FAILED);

  it('returns day 0 at once and the next step time', () => {
    expect(ids(nextDunningAction(DEFAULT_DUNNING_POLICY, open, FAILED))).toEqual(['day_0']);
    expect(nextDunningAction(DEFAULT_DUNNING_POLICY, open, FAILED).nextAt).toEqual(day(3));
  });

  it('is driven by the failed invoice time, to the millisecond', () => {
    const done = completeDunningSteps(DEFAULT_DUNNING_POLICY, open, ['day_0']);
    expect(nextDunningAction(DEFAULT_DUNNING_POLICY, done, new Date(day(3).getTime() - 1))).toEqual({
      due: [],
      nextAt: day(3),
    });
    expect(ids(nextDunningAction(DEFAULT_DUNNING_POLICY, done, day(3)))).toEqual(['day_3']);
  });

  it('returns missed steps after downtime in order, and nothing twice', () => {
    const done = completeDunningSteps(DEFAULT_DUNNING_POLICY, open, ['day_0']);
    const late = nextDunningAction(DEFAULT_DUNNING_POLICY, done, day(6));
    expect(ids(late)).toEqual(['day_3', 'day_5']);
    expect(late.nextAt).toEqual(day(7));
    const after = completeDunningSteps(DEFAULT_DUNNING_POLICY, done, ids(late));
    expect(nextDunningAction(DEFAULT_DUNNING_POLICY, after, day(6))).toEqual({ due: [], nextAt: day(7) });
  });

  it('closes the case as suspended after the suspend step', () => {
    const all = completeDunningSteps(DEFAULT_DUNNING_POLICY, open, ['day_0', 'day_3', 'day_5', 'day_7']);
    expect(all.status).toBe('suspended');
    expect(nextDunningAction(DEFAULT_DUNNING_POLICY, all, day(30))).toEqual({ due: [], nextAt: null });
    expect(completeDunningSteps(DEFAULT_DUNNING_POLICY, all, ['day_0'])).toBe(all);
  });

  it('stops after a payment resolves the case (R-DUN-4), idempotently', () => {
    const resolved = resolveDunningCase(open, day(2));
    expect(resolved).toMatchObject({ status: 'resolved', resolvedAt: day(2) });
    expect(nextDunningAction(DEFAULT_DUNNING_POLICY, resolved, day(10))).toEqual({ due: [], nextAt: null });
    expect(resolveDunningCase(resolved, day(3))).toBe(resolved);
  });

  it('refuses unknown step ids', () => {
    expect(() => completeDunningSteps(DEFAULT_DUNNING_POLICY, open, ['day_9'])).toThrow(DomainInvariantError);
  });

  it('never runs a step twice or early, whatever the polling times (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(10 * DAY), { maxLength: 20 }), (offsets) => {
        let dunningCase: DunningCase = open;
        const ran: { id: string; at: number }[] = [];
        for (const t of [...offsets].sort((a, b) => a - b)) {
          const { due } = nextDunningAction(
            DEFAULT_DUNNING_POLICY,
            dunningCase,
            new Date(FAILED.getTime() + t),
          );
          due.forEach((s) => ran.push({ id: s.id, at: t }));
          dunningCase = completeDunningSteps(
            DEFAULT_DUNNING_POLICY,
            dunningCase,
            due.map((s) => s.id),
          );
        }
        const order = DEFAULT_DUNNING_POLICY.steps.map((s) => s.id);
        expect(new Set(ran.map((r) => r.id)).size).toBe(ran.length);
        expect(ran.map((r) => r.id)).toEqual(order.slice(0, ran.length));
        for (const r of ran) {
          const s = DEFAULT_DUNNING_POLICY.steps.find((x) => x.id === r.id);
          expect(s && stepDueAt(open, s).getTime() <= FAILED.getTime() + r.at).toBe(true);
        }
      }),
    );
  });
});

describe('isGraceExhausted', () => {
  it('needs both the days and the attempts', () => {
    expect(isGraceExhausted({ pastDueSince: FAILED, failedAttempts: 3 }, day(7))).toBe(true);
    expect(
      isGraceExhausted({ pastDueSince: FAILED, failedAttempts: 3 }, new Date(day(7).getTime() - 1)),
    ).toBe(false);
    expect(isGraceExhausted({ pastDueSince: FAILED, failedAttempts: 2 }, day(9))).toBe(false);
    expect(isGraceExhausted({ pastDueSince: FAILED }, day(7))).toBe(true);
    expect(isGraceExhausted({ pastDueSince: null, failedAttempts: 5 }, day(30))).toBe(false);
  });
});

describe('dunningPolicyFromJson (DUNNING_POLICY)', () => {
  it('reads the default policy back from its JSON', () => {
    const parsed = dunningPolicyFromJson(JSON.stringify(DEFAULT_DUNNING_POLICY));
    expect(parsed).toEqual({ ok: true, value: DEFAULT_DUNNING_POLICY });
  });

  it('reads a shorter schedule', () => {
    const text = JSON.stringify({
      steps: [
        { id: 'd0', dayOffset: 0, actions: [{ kind: 'send_email', template: 'payment_failed_1' }] },
        { id: 'd2', dayOffset: 2, actions: [{ kind: 'retry_payment' }] },
        { id: 'd4', dayOffset: 4, actions: [{ kind: 'suspend' }] },
      ],
    });
    const parsed = dunningPolicyFromJson(text);
    expect(parsed.ok && parsed.value.steps.map((s) => s.id)).toEqual(['d0', 'd2', 'd4']);
  });

  it.each([
    ['not JSON', '{steps', /^not JSON/],
    ['no steps array', '{"steps":{}}', /"steps" array/],
    ['a step without an id', '{"steps":[{"dayOffset":0,"actions":[]}]}', /step 0: needs a string "id"/],
    ['an action without a kind', '{"steps":[{"id":"a","dayOffset":0,"actions":[{}]}]}', /needs a "kind"/],
    [
      'no suspend step',
      '{"steps":[{"id":"a","dayOffset":0,"actions":[{"kind":"retry_payment"}]}]}',
      /never suspends/,
    ],
    [
      'an unknown template',
      '{"steps":[{"id":"a","dayOffset":0,"actions":[{"kind":"send_email","template":"hello"}]},{"id":"b","dayOffset":1,"actions":[{"kind":"suspend"}]}]}',
      /unknown action/,
    ],
  ])('refuses %s, naming the problem', (_what, text, message) => {
    const parsed = dunningPolicyFromJson(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.error.join('\n')).toMatch(message);
  });
});
