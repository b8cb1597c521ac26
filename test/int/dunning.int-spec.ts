import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscriptionsFacade } from '../../apps/billing-api/src/modules/subscriptions/subscriptions.facade.js';
import { startStripeWorld, WORLD_WEBHOOK_SECRET, type StripeWorld } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import {
  advanceTo,
  DAY,
  DunningEventRecorder,
  failedRenewal,
  HOUR,
  RENEWAL_CHARGED,
  setDefaultCard,
  stepsAre,
  stepsOf,
  stripeRetriesOff,
  subscriptionRow,
  UNTIL_SUSPENDED,
  verdictOf,
  type ClockAccount,
} from './dunning.support.js';
import { createCatalogue, eventsOf, about, only } from './stripe-mirrors.support.js';
import { deliver, until } from './webhooks.support.js';

interface TimelineBody {
  accountId: string;
  case: {
    caseId: string;
    stripeInvoiceId: string;
    stage: string;
    day0: string;
    suspendAt: string;
    lastStep: string | null;
    nextStep: { id: string; dueAt: string } | null;
    steps: { id: string; status: string; dueAt: string; ranAt: string | null; retryOutcome: string | null }[];
  } | null;
}

// R-DUN end to end: the emulator's test clocks and the attach-then-fail card make a renewal fail; its
// signed webhooks reach the app; the dunning steps run on the clock's time through the real queue.
describe('dunning: Day 0/3/5/7 on a Stripe test clock, recovery, duplicates', () => {
  let w: StripeWorld;
  let recorder: DunningEventRecorder;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;
  let support: string;
  let finance: string;

  beforeAll(async () => {
    w = await startStripeWorld({ providers: [DunningEventRecorder] });
    recorder = w.t.app.get(DunningEventRecorder);
    await stripeRetriesOff(w);
    prices = await createCatalogue(w.stripe);
    support = await tokenFor({ sub: 'support-1', role: 'support' });
    finance = await tokenFor({ sub: 'finance-1', role: 'finance' });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  const timeline = (a: ClockAccount, token = a.owner) =>
    http<TimelineBody>(w.t.url, 'GET', `/v1/accounts/${a.accountId}/dunning`, { token });
  const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

  it('runs Day 0, 3, 5 and 7 on the clock, suspends to read-only, and a new default card reactivates at once', async () => {
    const { a, sub, invoice, day0 } = await failedRenewal(w, prices);

    // Day 0: the case opens at the failed attempt's time, its first step runs, the account is past_due
    // since that attempt (not since an event's arrival), with a banner and the stage in the verdict.
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'pending', day_5: 'pending', day_7: 'pending' });
    await until(async () => (await subscriptionRow(w, sub)).state === 'past_due', 'past_due');
    expect(await subscriptionRow(w, sub)).toMatchObject({
      past_due_since: new Date(day0 * 1000),
      failed_attempts: 1,
    });
    const opened = await timeline(a);
    expect(opened.status).toBe(200);
    expect(opened.body.case).toMatchObject({
      stripeInvoiceId: invoice.id,
      stage: 'past_due',
      day0: iso(day0),
      suspendAt: iso(day0 + 7 * DAY),
      lastStep: 'day_0',
      nextStep: { id: 'day_3', dueAt: iso(day0 + 3 * DAY) },
    });
    expect(opened.body.case?.steps.map((s) => [s.id, s.status, s.dueAt])).toEqual([
      ['day_0', 'done', iso(day0)],
      ['day_3', 'pending', iso(day0 + 3 * DAY)],
      ['day_5', 'pending', iso(day0 + 5 * DAY)],
      ['day_7', 'pending', iso(day0 + 7 * DAY)],
    ]);
    const pastDue = await until(async () => {
      const v = await verdictOf(w, a);
      return v.dunningStage?.lastStep === 'day_0' ? v : null;
    }, 'the verdict with the Day 0 stage');
    expect(pastDue).toMatchObject({
      accessMode: 'full',
      state: 'past_due',
      dunningStage: { stage: 'past_due' },
    });
    expect(pastDue.banners.map((b) => b.kind)).toContain('past_due');
    // Members do not see the timeline; support and finance see any account's; admins list it by step.
    expect((await timeline(a, a.member)).status).toBe(403);
    expect((await timeline(a, support)).body.case?.caseId).toBe(opened.body.case?.caseId);
    expect((await timeline(a, finance)).status).toBe(200);
    const listed = await http<{ data: { caseId: string }[]; counts: Record<string, number> }>(
      w.t.url,
      'GET',
      '/v1/admin/dunning?step=day_0&limit=100',
      { token: w.admin },
    );
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((c) => c.caseId)).toContain(opened.body.case?.caseId);
    expect(listed.body.counts.day_0).toBeGreaterThanOrEqual(1);

    // Day 3 (the clock a minute past it): the second attempt fails at Stripe, counted.
    await advanceTo(w, a, day0 + 3 * DAY + 60);
    const day3 = await stepsAre(w, invoice.id, {
      day_0: 'done',
      day_3: 'done',
      day_5: 'pending',
      day_7: 'pending',
    });
    expect(day3[1]).toMatchObject({
      retry_outcome: 'failed',
      ran_at: new Date((day0 + 3 * DAY + 60) * 1000),
    });
    expect((await w.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(2);
    await until(async () => (await subscriptionRow(w, sub)).failed_attempts === 2, 'two attempts counted');

    // Day 5: the third.
    await advanceTo(w, a, day0 + 5 * DAY + 60);
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'done', day_5: 'done', day_7: 'pending' });
    expect((await w.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(3);
    await until(async () => (await subscriptionRow(w, sub)).failed_attempts === 3, 'three attempts counted');
    expect((await subscriptionRow(w, sub)).state).toBe('past_due');

    // Day 7: 7 days and 3 attempts: suspended through the machine, the verdict read-only.
    await advanceTo(w, a, day0 + 7 * DAY + 60);
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'done', day_5: 'done', day_7: 'done' });
    await until(async () => (await subscriptionRow(w, sub)).state === 'suspended', 'suspended');
    const suspended = await until(async () => {
      const v = await verdictOf(w, a);
      return v.accessMode === 'read_only' ? v : null;
    }, 'the read-only verdict');
    expect(suspended).toMatchObject({
      state: 'suspended',
      dunningStage: { stage: 'suspended', nextStep: null },
    });
    expect((await timeline(a)).body.case).toMatchObject({
      stage: 'suspended',
      lastStep: 'day_7',
      nextStep: null,
    });

    // A working card as the new default: retried at once, paid, active, the case closed.
    await setDefaultCard(w, a, 'pm_card_visa');
    await until(async () => (await subscriptionRow(w, sub)).state === 'active', 'active again');
    expect((await w.stripe.invoices.retrieve(invoice.id)).status).toBe('paid');
    await until(async () => recorder.of(a.accountId).includes('dunning.case_closed'), 'case closed');
    expect((await timeline(a)).body).toEqual({ accountId: a.accountId, case: null });
    const closed = await until(async () => {
      const v = await verdictOf(w, a);
      return v.accessMode === 'full' && v.dunningStage === null ? v : null;
    }, 'full access again');
    expect(closed.state).toBe('active');
    const rows = await w.t.db.query<{ status: string; outcome: string; suspended_at: Date | null }[]>(
      `SELECT status, outcome, suspended_at FROM dunning_cases WHERE stripe_invoice_id = $1`,
      [invoice.id],
    );
    expect(rows).toEqual([
      { status: 'closed', outcome: 'paid', suspended_at: new Date((day0 + 7 * DAY + 60) * 1000) },
    ]);

    // Each event exactly once, in order; the closing one says access had been cut.
    expect(recorder.of(a.accountId)).toEqual([...UNTIL_SUSPENDED, 'dunning.case_closed']);
    const closing = recorder.events.find(
      (e) => e.type === 'dunning.case_closed' && e.payload.accountId === a.accountId,
    );
    expect(closing?.payload).toMatchObject({
      outcome: 'paid',
      wasSuspended: true,
      stripeInvoiceId: invoice.id,
    });
    const day0Ran = recorder.events.find(
      (e) =>
        e.type === 'dunning.step_ran' && e.payload.accountId === a.accountId && e.payload.stepId === 'day_0',
    );
    expect(day0Ran?.payload).toMatchObject({
      template: 'payment_failed_1',
      retried: false,
      nextStepAt: iso(day0 + 3 * DAY),
      amountDue: 2900,
      currency: 'usd',
    });
    // Day 0 ran at once, at the clock's time (Day 0 itself, or the clock's ready a minute later).
    const ranAt = Date.parse(String((day0Ran?.payload as { ranAt?: string } | undefined)?.ranAt));
    expect(ranAt).toBeGreaterThanOrEqual(day0 * 1000);
    expect(ranAt).toBeLessThanOrEqual((RENEWAL_CHARGED + 60) * 1000);
    const job = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM dunning_steps s JOIN dunning_cases c ON c.id = s.case_id
        WHERE c.stripe_invoice_id = $1 AND s.status = 'pending'`,
      [invoice.id],
    );
    expect(job[0]?.n).toBe(0);
  }, 120_000);

  it('recovery on Day 4 (the invoice paid) closes the case: no Day 5 retry, no Day 7 suspension', async () => {
    const { a, sub, invoice, day0 } = await failedRenewal(w, prices);
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'pending', day_5: 'pending', day_7: 'pending' });
    await advanceTo(w, a, day0 + 3 * DAY + 60);
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'done', day_5: 'pending', day_7: 'pending' });
    await advanceTo(w, a, day0 + 4 * DAY);

    // Paid on Day 4 with another card (what pay-outstanding does): the invoice.paid webhook closes it.
    const visa = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: a.customerId });
    await w.stripe.invoices.pay(invoice.id, { payment_method: visa.id });
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'done', day_5: 'canceled', day_7: 'canceled' });
    await until(async () => (await subscriptionRow(w, sub)).state === 'active', 'active');

    await advanceTo(w, a, day0 + 8 * DAY);
    // The clock's ready event was applied (its time recorded) and nothing more ran.
    await until(async () => {
      const rows = await w.t.db.query<{ t: Date }[]>(
        `SELECT frozen_time AS t FROM dunning_test_clocks WHERE test_clock_id = $1`,
        [a.clockId],
      );
      return rows[0]?.t.getTime() === (day0 + 8 * DAY) * 1000;
    }, 'the clock time recorded');
    expect((await stepsOf(w, invoice.id)).map((s) => [s.step_id, s.status])).toEqual([
      ['day_0', 'done'],
      ['day_3', 'done'],
      ['day_5', 'canceled'],
      ['day_7', 'canceled'],
    ]);
    expect((await w.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(3);
    expect((await subscriptionRow(w, sub)).state).toBe('active');
    expect(recorder.of(a.accountId)).toEqual([
      'dunning.case_opened',
      'dunning.step_ran:day_0',
      'dunning.step_ran:day_3',
      'dunning.case_closed',
    ]);
  }, 120_000);

  it('what dunning applies is as new as its report: an older subscription event delivered late cannot undo it', async () => {
    const { sub, invoice, day0 } = await failedRenewal(w, prices);
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'pending', day_5: 'pending', day_7: 'pending' });
    // A failed attempt reported by dunning a minute after everything Stripe sent so far (a retry's decline).
    const failedAt = day0 + 60;
    await w.t.db.transaction((manager) =>
      w.t.app
        .get(SubscriptionsFacade, { strict: false })
        .applyDunningInput(
          manager,
          sub,
          { type: 'payment_failed', at: new Date(failedAt * 1000) },
          { type: 'system', id: 'dunning-test' },
        ),
    );
    expect(await subscriptionRow(w, sub)).toMatchObject({ state: 'past_due', failed_attempts: 2 });
    // Stripe's subscription event of the renewal (new period, still `active`), created before that failure,
    // delivered late (Stripe does not promise order): stale, it cannot put the subscription back to active.
    const renewed = await w.stripe.subscriptions.retrieve(sub);
    const late = {
      id: `evt_late_${invoice.id}`,
      object: 'event',
      api_version: '2026-10-28.endive',
      created: failedAt - 30,
      livemode: false,
      type: 'customer.subscription.updated',
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: { ...renewed, status: 'active' }, previous_attributes: {} },
    };
    expect((await deliver(w.t.url, JSON.stringify(late), { secret: WORLD_WEBHOOK_SECRET })).status).toBe(200);
    const row = await until(async () => {
      const rows = await w.t.db.query<{ status: string; outcome: string | null }[]>(
        `SELECT status, outcome FROM webhook_events WHERE id = $1`,
        [late.id],
      );
      return rows[0]?.status === 'processed' ? rows[0] : null;
    }, 'the late event processed');
    expect(row.outcome).toBe('skipped_stale');
    expect(await subscriptionRow(w, sub)).toMatchObject({ state: 'past_due', failed_attempts: 2 });
  }, 120_000);

  it('a duplicate invoice.payment_failed (the same event again, and another event of the same failure) opens one case and runs each step once', async () => {
    const { a, invoice, day0 } = await failedRenewal(w, prices);
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'pending', day_5: 'pending', day_7: 'pending' });
    const failed = only(
      about(await eventsOf(w.stripe, ['invoice.payment_failed']), invoice.id),
      'payment_failed',
    );
    // The signed delivery again (the inbox drops it) and a second event of the same failure, an hour later.
    const again = JSON.stringify(failed);
    expect((await deliver(w.t.url, again, { secret: WORLD_WEBHOOK_SECRET })).status).toBe(200);
    const other = JSON.stringify({ ...failed, id: `${failed.id}_dup`, created: failed.created + HOUR });
    expect((await deliver(w.t.url, other, { secret: WORLD_WEBHOOK_SECRET })).status).toBe(200);
    await until(async () => {
      const rows = await w.t.db.query<{ status: string }[]>(
        `SELECT status FROM webhook_events WHERE id = $1`,
        [`${failed.id}_dup`],
      );
      return rows[0]?.status === 'processed';
    }, 'the second event applied');

    await advanceTo(w, a, day0 + 3 * DAY + 60);
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'done', day_5: 'pending', day_7: 'pending' });
    const cases = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM dunning_cases WHERE stripe_invoice_id = $1`,
      [invoice.id],
    );
    expect(cases[0]?.n).toBe(1);
    expect(recorder.of(a.accountId)).toEqual([
      'dunning.case_opened',
      'dunning.step_ran:day_0',
      'dunning.step_ran:day_3',
    ]);
    expect((await w.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(2);
  }, 120_000);

  it('closes the case when Stripe cancels the subscription by itself, and when the invoice is voided', async () => {
    const outcomeOf = async (stripeInvoiceId: string) =>
      (
        await w.t.db.query<{ outcome: string | null }[]>(
          `SELECT outcome FROM dunning_cases WHERE stripe_invoice_id = $1`,
          [stripeInvoiceId],
        )
      )[0]?.outcome;

    const canceled = await failedRenewal(w, prices);
    await stepsAre(w, canceled.invoice.id, {
      day_0: 'done',
      day_3: 'pending',
      day_5: 'pending',
      day_7: 'pending',
    });
    await w.stripe.subscriptions.cancel(canceled.sub);
    await stepsAre(w, canceled.invoice.id, {
      day_0: 'done',
      day_3: 'canceled',
      day_5: 'canceled',
      day_7: 'canceled',
    });
    expect(await outcomeOf(canceled.invoice.id)).toBe('subscription_canceled');
    expect((await subscriptionRow(w, canceled.sub)).state).toBe('canceled_immediately');

    const voided = await failedRenewal(w, prices);
    await stepsAre(w, voided.invoice.id, {
      day_0: 'done',
      day_3: 'pending',
      day_5: 'pending',
      day_7: 'pending',
    });
    await w.stripe.invoices.voidInvoice(voided.invoice.id);
    await stepsAre(w, voided.invoice.id, {
      day_0: 'done',
      day_3: 'canceled',
      day_5: 'canceled',
      day_7: 'canceled',
    });
    expect(await outcomeOf(voided.invoice.id)).toBe('voided');
    // Nothing runs on those clocks any more.
    await advanceTo(w, voided.a, voided.day0 + 8 * DAY);
    await advanceTo(w, canceled.a, canceled.day0 + 8 * DAY);
    for (const { a } of [canceled, voided]) {
      expect(recorder.of(a.accountId)).toEqual([
        'dunning.case_opened',
        'dunning.step_ran:day_0',
        'dunning.case_closed',
      ]);
    }
  }, 120_000);
});
