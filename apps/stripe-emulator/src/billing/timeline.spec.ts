import { describe, expect, it } from '@jest/globals';
import {
  INCOMPLETE_EXPIRY_SECONDS,
  nextAction,
  subscriptionActions,
  TRIAL_WILL_END_LEAD_SECONDS,
  type InvoiceTimelineView,
  type SubscriptionTimelineView,
} from './timeline.js';

const sub = (over: Partial<SubscriptionTimelineView> = {}): SubscriptionTimelineView => ({
  id: 'sub_1',
  status: 'active',
  created: 0,
  trialEnd: null,
  trialWillEndSent: false,
  currentPeriodStart: 0,
  currentPeriodEnd: 1_000_000,
  upcomingSentFor: 1_000_000,
  cancelAt: null,
  cancelAtPeriodEnd: false,
  pauseCollectionResumesAt: null,
  ...over,
});

describe('timeline', () => {
  it('schedules trial_will_end three days before the trial end, then the trial end', () => {
    const s = sub({ status: 'trialing', trialEnd: 14 * 86_400, currentPeriodEnd: 14 * 86_400 });
    expect(nextAction([s], [], Infinity)).toEqual({
      kind: 'trial_will_end',
      at: 14 * 86_400 - TRIAL_WILL_END_LEAD_SECONDS,
      subscriptionId: 'sub_1',
    });
    expect(nextAction([{ ...s, trialWillEndSent: true }], [], Infinity)).toMatchObject({ kind: 'trial_end' });
  });

  it('sends trial_will_end at once when fewer than three days remain', () => {
    const s = sub({ status: 'trialing', created: 100, trialEnd: 100 + 86_400 });
    expect(nextAction([s], [], Infinity)).toMatchObject({ kind: 'trial_will_end', at: 100 });
  });

  it('returns nothing beyond the horizon and nothing for ended subscriptions', () => {
    expect(nextAction([sub()], [], 999_999)).toBeNull();
    expect(nextAction([sub({ status: 'canceled' })], [], Infinity)).toBeNull();
    expect(nextAction([sub({ status: 'incomplete_expired' })], [], Infinity)).toBeNull();
  });

  it('expires incomplete subscriptions after 23 hours', () => {
    expect(subscriptionActions(sub({ status: 'incomplete', created: 50 }))).toEqual([
      { kind: 'incomplete_expire', at: 50 + INCOMPLETE_EXPIRY_SECONDS, subscriptionId: 'sub_1' },
    ]);
  });

  it('orders by time, then finalize before attempt before cut-overs, then by id', () => {
    const invoices: InvoiceTimelineView[] = [
      { id: 'in_b', status: 'open', finalizesAt: null, nextPaymentAttempt: 500 },
      { id: 'in_a', status: 'draft', finalizesAt: 500, nextPaymentAttempt: null },
      { id: 'in_c', status: 'paid', finalizesAt: null, nextPaymentAttempt: null },
    ];
    const subs = [sub({ currentPeriodEnd: 500, cancelAt: 500 }), sub({ id: 'sub_0', currentPeriodEnd: 400 })];
    expect(nextAction(subs, invoices, 1000)).toMatchObject({ kind: 'period_end', subscriptionId: 'sub_0' });
    expect(nextAction([subs[0]!], invoices, 1000)).toMatchObject({
      kind: 'invoice_finalize',
      invoiceId: 'in_a',
    });
    expect(nextAction([subs[0]!], invoices.slice(0, 1), 1000)).toMatchObject({ kind: 'invoice_attempt' });
    expect(nextAction([subs[0]!], [], 1000)).toMatchObject({ kind: 'cancel_at' });
  });

  it('announces a renewal with invoice.upcoming seven days ahead, once per period', () => {
    const s = sub({ currentPeriodStart: 0, currentPeriodEnd: 30 * 86_400, upcomingSentFor: null });
    expect(nextAction([s], [], Infinity)).toEqual({
      kind: 'invoice_upcoming',
      at: 23 * 86_400,
      subscriptionId: 'sub_1',
    });
    expect(nextAction([{ ...s, upcomingSentFor: 30 * 86_400 }], [], Infinity)).toMatchObject({
      kind: 'period_end',
    });
    // Not when the period is shorter than the lead, nor when the subscription ends with the period.
    expect(nextAction([{ ...s, currentPeriodEnd: 5 * 86_400 }], [], Infinity)).toMatchObject({
      kind: 'period_end',
    });
    expect(nextAction([{ ...s, cancelAtPeriodEnd: true }], [], Infinity)).toMatchObject({
      kind: 'period_end',
    });
  });

  it('resumes pause_collection and keeps a paused subscription still', () => {
    expect(nextAction([sub({ pauseCollectionResumesAt: 10 })], [], 100)).toMatchObject({
      kind: 'pause_collection_resume',
      at: 10,
    });
    expect(subscriptionActions(sub({ status: 'paused' }))).toEqual([]);
  });
});
