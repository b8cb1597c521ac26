import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { DUNNING_EVENTS } from '../../apps/billing-api/src/modules/dunning/contracts/dunning.events.js';
import { AfterCommit } from '../../apps/billing-api/src/platform/database/after-commit.js';
import { OnDomainEvent, type DomainEvent } from '../../apps/billing-api/src/platform/events/domain-event.js';
import type Stripe from 'stripe';
import type { StripeWorld } from '../support/stripe-world.js';
import { about, eventsOf, only, type createCatalogue } from './stripe-mirrors.support.js';
import { http, tokenFor } from '../support/test-app.js';
import { createAccount, until } from './webhooks.support.js';

type DunningEventType = (typeof DUNNING_EVENTS)[number];
export type DunningEvent = DomainEvent<DunningEventType>;

/** Records every dunning event whose transaction committed (a rolled-back publication is not one). */
@Injectable()
export class DunningEventRecorder {
  readonly events: DunningEvent[] = [];

  constructor(private readonly afterCommit: AfterCommit) {}

  @OnDomainEvent(...DUNNING_EVENTS)
  heard(event: DunningEvent, manager: EntityManager): void {
    this.afterCommit.run(manager, () => this.events.push(event));
  }

  /** The recorded events about one case (or account), as `type[:step]` in the order they committed. */
  of(accountId: string): string[] {
    return this.events
      .filter((e) => e.payload.accountId === accountId)
      .map((e) => (e.type === 'dunning.step_ran' ? `${e.type}:${e.payload.stepId}` : e.type));
  }
}

/** The events of a whole timeline up to the suspension, each once and in this order. */
export const UNTIL_SUSPENDED = [
  'dunning.case_opened',
  'dunning.step_ran:day_0',
  'dunning.step_ran:day_3',
  'dunning.step_ran:day_5',
  'dunning.step_ran:day_7',
  'dunning.account_suspended',
];

export const DAY = 86_400;
export const HOUR = 3_600;

/** Stripe's own retries off: the app's schedule is the one that retries (docs/dunning.md). */
export async function stripeRetriesOff(w: StripeWorld): Promise<void> {
  const res = await fetch(`${w.kit.emulator.url}/_emulator/billing/settings`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ api_key: w.key, retry_days: '0', final_status: 'past_due' }).toString(),
  });
  if (res.status !== 200) throw new Error(`emulator billing settings answered ${res.status}`);
}

export interface ClockAccount {
  accountId: string;
  customerId: string;
  clockId: string;
  owner: string;
  member: string;
  /** The clock's time now (Unix seconds). */
  time: number;
}

/** An account whose Stripe customer runs on a new test clock starting at `start`, linked by metadata. */
export async function accountOnClock(w: StripeWorld, start: number): Promise<ClockAccount> {
  const accountId = await createAccount(w.t.url, w.admin);
  const clock = await w.stripe.testHelpers.testClocks.create({ frozen_time: start });
  const customer = await w.stripe.customers.create({
    email: `dunning-${randomUUID().slice(0, 8)}@example.test`,
    metadata: { account_id: accountId },
    test_clock: clock.id,
  });
  await until(async () => {
    const rows = await w.t.db.query<{ c: string | null }[]>(
      `SELECT stripe_customer_id AS c FROM accounts WHERE id = $1`,
      [accountId],
    );
    return rows[0]?.c === customer.id;
  }, 'the customer linked to the account');
  return {
    accountId,
    customerId: customer.id,
    clockId: clock.id,
    owner: await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId }),
    member: await tokenFor({ sub: `member-${randomUUID()}`, role: 'member', accountId }),
    time: start,
  };
}

/** Makes `testMethod` the customer's default card and waits until the account mirror shows it. */
export async function setDefaultCard(w: StripeWorld, a: ClockAccount, testMethod: string): Promise<string> {
  const pm = await w.stripe.paymentMethods.attach(testMethod, { customer: a.customerId });
  await w.stripe.customers.update(a.customerId, { invoice_settings: { default_payment_method: pm.id } });
  await until(async () => {
    const rows = await w.t.db.query<{ pm: string | null }[]>(
      `SELECT stripe_default_payment_method_id AS pm FROM accounts WHERE id = $1`,
      [a.accountId],
    );
    return rows[0]?.pm === pm.id;
  }, `default card ${testMethod} mirrored`);
  return pm.id;
}

/** Advances the account's test clock to `to` (Unix seconds) and waits until it is ready. */
export async function advanceTo(w: StripeWorld, a: ClockAccount, to: number): Promise<void> {
  await w.stripe.testHelpers.testClocks.advance(a.clockId, { frozen_time: to });
  a.time = to;
}

export interface SubscriptionRow {
  state: string;
  past_due_since: Date | null;
  failed_attempts: number;
}

export async function subscriptionRow(
  w: StripeWorld,
  stripeSubscriptionId: string,
): Promise<SubscriptionRow> {
  const rows = await w.t.db.query<SubscriptionRow[]>(
    `SELECT state, past_due_since, failed_attempts FROM subscriptions WHERE stripe_subscription_id = $1`,
    [stripeSubscriptionId],
  );
  if (!rows[0]) throw new Error(`subscription ${stripeSubscriptionId} not mirrored`);
  return rows[0];
}

export interface StepRow {
  step_id: string;
  status: string;
  due_at: Date;
  ran_at: Date | null;
  retry_outcome: string | null;
}

export async function stepsOf(w: StripeWorld, stripeInvoiceId: string): Promise<StepRow[]> {
  return w.t.db.query<StepRow[]>(
    `SELECT s.step_id, s.status, s.due_at, s.ran_at, s.retry_outcome
       FROM dunning_steps s JOIN dunning_cases c ON c.id = s.case_id
      WHERE c.stripe_invoice_id = $1 ORDER BY s.position`,
    [stripeInvoiceId],
  );
}

/** Waits until the case's steps have exactly these statuses (`done` / `pending` / `canceled`). */
export async function stepsAre(
  w: StripeWorld,
  stripeInvoiceId: string,
  statuses: Record<string, string>,
  timeoutMs = 30_000,
): Promise<StepRow[]> {
  return until(
    async () => {
      const steps = await stepsOf(w, stripeInvoiceId);
      const now = Object.fromEntries(steps.map((s) => [s.step_id, s.status]));
      return JSON.stringify(now) === JSON.stringify(statuses) ? steps : null;
    },
    `steps of ${stripeInvoiceId} to be ${JSON.stringify(statuses)}`,
    timeoutMs,
  );
}

export interface VerdictBody {
  accessMode: string;
  banners: { kind: string }[];
  state: string | null;
  dunningStage: {
    stage: string;
    lastStep: string | null;
    nextStep: { id: string; dueAt: string } | null;
    day0: string;
  } | null;
}

export async function verdictOf(w: StripeWorld, a: ClockAccount): Promise<VerdictBody> {
  const res = await http<VerdictBody>(w.t.url, 'GET', `/v1/accounts/${a.accountId}/entitlements`, {
    token: a.owner,
  });
  if (res.status !== 200) throw new Error(`entitlements answered ${res.status}`);
  return res.body;
}

/** Where the failing renewals of these suites start: a clock at this time, a monthly subscription. */
export const START = Math.floor(Date.UTC(2031, 0, 15, 12) / 1000);
/** The renewal a month on: the draft at the period end, finalized and charged an hour later. */
export const RENEWAL_CHARGED = Math.floor(Date.UTC(2031, 1, 15, 13) / 1000);

/**
 * An active Pro subscription on a test clock whose renewal fails (the attach-then-fail card made the
 * default after the first invoice was paid): the account, the subscription, the failed invoice and
 * Day 0 (the failed attempt's event time).
 */
export async function failedRenewal(
  w: StripeWorld,
  prices: Awaited<ReturnType<typeof createCatalogue>>,
): Promise<{ a: ClockAccount; sub: string; invoice: Stripe.Invoice; day0: number }> {
  const a = await accountOnClock(w, START);
  await setDefaultCard(w, a, 'pm_card_visa');
  const sub = await w.stripe.subscriptions.create({
    customer: a.customerId,
    items: [{ price: prices.proMonth }],
  });
  await until(async () => (await subscriptionRow(w, sub.id).catch(() => null))?.state === 'active', 'active');
  await setDefaultCard(w, a, 'pm_card_chargeCustomerFail');
  await advanceTo(w, a, RENEWAL_CHARGED + 60);
  const invoiceId = (await w.stripe.subscriptions.retrieve(sub.id)).latest_invoice as string;
  const invoice = await w.stripe.invoices.retrieve(invoiceId);
  if (
    invoice.status !== 'open' ||
    invoice.attempt_count !== 1 ||
    invoice.billing_reason !== 'subscription_cycle'
  ) {
    throw new Error(
      `the renewal did not fail as expected: ${invoice.status}, ${invoice.attempt_count} attempts`,
    );
  }
  const failed = only(
    about(await eventsOf(w.stripe, ['invoice.payment_failed']), invoiceId),
    'payment_failed',
  );
  return { a, sub: sub.id, invoice, day0: failed.created };
}

const TIMELINE = [
  ['day_0', 0],
  ['day_3', 3],
  ['day_5', 5],
  ['day_7', 7],
] as const;
export type TimelineStep = (typeof TIMELINE)[number][0];

/**
 * A failed renewal (see {@link failedRenewal}) run on its clock through Day 3, 5 and 7 until the
 * dunning module suspends the subscription: the real path to a suspended account. `afterStep` runs
 * once each step is done (before the clock moves on).
 */
export async function suspendedRenewal(
  w: StripeWorld,
  prices: Awaited<ReturnType<typeof createCatalogue>>,
  afterStep: (
    step: TimelineStep,
    r: Awaited<ReturnType<typeof failedRenewal>>,
  ) => Promise<void> = async () => {},
): Promise<Awaited<ReturnType<typeof failedRenewal>>> {
  const r = await failedRenewal(w, prices);
  for (const [i, [step, day]] of TIMELINE.entries()) {
    if (day > 0) await advanceTo(w, r.a, r.day0 + day * DAY + 60);
    await stepsAre(
      w,
      r.invoice.id,
      Object.fromEntries(TIMELINE.map(([id], j) => [id, j <= i ? 'done' : 'pending'])),
    );
    await afterStep(step, r);
  }
  await until(async () => (await subscriptionRow(w, r.sub)).state === 'suspended', 'suspended');
  return r;
}
