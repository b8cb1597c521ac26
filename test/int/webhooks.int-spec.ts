import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { AuditFacade } from '../../apps/billing-api/src/modules/audit/audit.facade.js';
import {
  ChecksStripeEventsUnchanged,
  HandlesStripeEvents,
  PermanentEventError,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../apps/billing-api/src/modules/webhooks/contracts/stripe-event-handler.js';
import { ProcessStripeEvent } from '../../apps/billing-api/src/modules/webhooks/processing/process-stripe-event.js';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import {
  accountMirror,
  auditCount,
  createAccount,
  customer,
  deliver,
  eventId,
  inboxRow,
  metricValue,
  randomUUID,
  SECRET,
  sign,
  statusIs,
  stripeEvent,
  until,
} from './webhooks.support.js';

const OLD_SECRET = 'whsec_test_webhooks_rotated_out';

/** Test-only handlers: one that fails until told otherwise, one that always refuses. */
const flaky = { failuresLeft: 0, calls: 0 };
const gate: { waiting: (() => void)[] } = { waiting: [] };
const checks = { failuresLeft: 0 };

@Injectable()
class TestEventHandlers {
  constructor(private readonly audit: AuditFacade) {}

  @HandlesStripeEvents('test.flaky')
  async flaky(event: StripeEventPayload, ctx: StripeEventContext): Promise<'applied'> {
    flaky.calls++;
    if (flaky.failuresLeft > 0) {
      flaky.failuresLeft--;
      throw new Error('downstream timeout (test)');
    }
    await this.applied('test.flaky_applied', event, ctx);
    return 'applied';
  }

  /** Writes its effect, then waits until the test lets this run go on (one waiter per run). */
  @HandlesStripeEvents('test.gated')
  async gated(event: StripeEventPayload, ctx: StripeEventContext): Promise<'applied'> {
    await this.applied('test.gated_applied', event, ctx);
    await new Promise<void>((resolve) => gate.waiting.push(resolve));
    return 'applied';
  }

  /** The effect of an application: one audit record, in the event's transaction. */
  private applied(action: string, event: StripeEventPayload, ctx: StripeEventContext): Promise<void> {
    return this.audit.record(
      {
        accountId: null,
        action,
        entityType: 'webhook_event',
        entityId: event.id,
        actor: { type: 'stripe_event', id: ctx.event.id },
      },
      ctx.manager,
    );
  }

  /** Applies like any handler; its unchanged-check answers by what the object says. */
  @HandlesStripeEvents('test.checked')
  async checked(event: StripeEventPayload, ctx: StripeEventContext): Promise<'applied'> {
    await this.applied('test.checked_applied', event, ctx);
    return 'applied';
  }

  @ChecksStripeEventsUnchanged('test.checked')
  async checkedUnchanged(event: StripeEventPayload): Promise<StripeEventOutcome | null> {
    const says = (event.data.object as { says?: string }).says;
    if (says === 'fail') {
      checks.failuresLeft--;
      if (checks.failuresLeft >= 0) throw new Error('check read failed (test)');
    }
    return says === 'stale' ? 'skipped_stale' : null;
  }

  @HandlesStripeEvents('test.refused')
  refused(): Promise<'applied'> {
    return Promise.reject(new PermanentEventError('invalid transition active -> incomplete (test)'));
  }
}

@Injectable()
class FirstClaim {
  @HandlesStripeEvents('test.claimed_twice')
  handle(): Promise<'applied'> {
    return Promise.resolve('applied');
  }
}

@Injectable()
class SecondClaim {
  @HandlesStripeEvents('test.other', 'test.claimed_twice')
  handle(): Promise<'applied'> {
    return Promise.resolve('applied');
  }
}

interface ErrorBody {
  error: { code: string };
}
interface EventPage {
  data: { id: string; type: string; status: string; created: string }[];
  has_more: boolean;
  next_cursor: string | null;
}

describe('Stripe webhooks: intake, processing, customer mirror, admin API, metrics', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp({
      role: 'all',
      env: {
        STRIPE_WEBHOOK_SECRETS: `${SECRET},${OLD_SECRET}`,
        WEBHOOK_MAX_ATTEMPTS: '3',
        WEBHOOK_BACKOFF_MS: '20',
      },
      providers: [TestEventHandlers],
    });
    admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('signatures (R-WH-1)', () => {
    const count = async (id: string): Promise<number> =>
      (
        await t.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM webhook_events WHERE id = $1`, [id])
      )[0]?.n ?? 0;

    it('accepts a valid signature: stored, answered 200', async () => {
      const event = stripeEvent('test.unknown_type', { id: 'obj_1' });
      const response = await deliver(t.url, event);
      expect(response).toEqual({ status: 200, body: { received: true, duplicate: false } });
      expect(await count(event.id)).toBe(1);
    });

    it('accepts an event signed with the other secret of a rotation', async () => {
      const event = stripeEvent('test.unknown_type', { id: 'obj_2' });
      expect((await deliver(t.url, event, { secret: OLD_SECRET })).status).toBe(200);
      expect(await count(event.id)).toBe(1);
    });

    it('refuses a changed body, a wrong secret, a stale or future timestamp and a missing header; stores nothing; counts each', async () => {
      const before = await metricValue(t.url, 'billing_webhooks_signature_failures_total');
      const cases: { event: ReturnType<typeof stripeEvent>; body?: string; signature: string }[] = [];
      const changed = stripeEvent('customer.updated', customer('cus_tampered', { balance: 100 }));
      const signedBody = JSON.stringify(changed);
      cases.push({
        event: changed,
        body: signedBody.replace('"balance":100', '"balance":999999'),
        signature: sign(signedBody),
      });
      const wrong = stripeEvent('customer.updated', customer('cus_wrong'));
      cases.push({ event: wrong, signature: sign(JSON.stringify(wrong), 'whsec_not_ours') });
      const stale = stripeEvent('customer.updated', customer('cus_stale'));
      cases.push({
        event: stale,
        signature: sign(JSON.stringify(stale), SECRET, Math.floor(Date.now() / 1000) - 301),
      });
      const unsigned = stripeEvent('customer.updated', customer('cus_unsigned'));
      cases.push({ event: unsigned, signature: '' });
      // Issue 16 (9): the tolerance holds both ways; a timestamp from the future is no fresher.
      for (const ahead of [301, 365 * 24 * 3600]) {
        const future = stripeEvent('customer.updated', customer(`cus_future_${ahead}`));
        cases.push({
          event: future,
          signature: sign(JSON.stringify(future), SECRET, Math.floor(Date.now() / 1000) + ahead),
        });
      }

      for (const c of cases) {
        const body = c.body ?? JSON.stringify(c.event);
        const response = await fetch(`${t.url}/webhooks/stripe`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(c.signature ? { 'stripe-signature': c.signature } : {}),
          },
          body,
        });
        expect(response.status).toBe(400);
        expect(((await response.json()) as ErrorBody).error.code).toBe('invalid_signature');
        expect(await count(c.event.id)).toBe(0);
      }
      const after = await metricValue(t.url, 'billing_webhooks_signature_failures_total');
      expect(after - before).toBe(cases.length);
    });

    it('accepts a timestamp just inside the 300 s tolerance', async () => {
      const event = stripeEvent('test.unknown_type', { id: 'obj_3' });
      const response = await deliver(t.url, event, {
        signature: sign(JSON.stringify(event), SECRET, Math.floor(Date.now() / 1000) - 280),
      });
      expect(response.status).toBe(200);
    });

    it('accepts a timestamp just inside the tolerance on the future side (clock skew)', async () => {
      const event = stripeEvent('test.unknown_type', { id: 'obj_3b' });
      const response = await deliver(t.url, event, {
        signature: sign(JSON.stringify(event), SECRET, Math.floor(Date.now() / 1000) + 280),
      });
      expect(response.status).toBe(200);
    });
  });

  describe('processing', () => {
    it('marks an event of an unknown type ignored', async () => {
      const event = stripeEvent('test.nobody_handles_this', { id: 'obj_4' });
      await deliver(t.url, event);
      const row = await until(statusIs(t.db, event.id, ['ignored']), 'ignored');
      expect(row).toMatchObject({ status: 'ignored', outcome: 'ignored', attempts: 1 });
    });

    it('mirrors a customer onto the account linked by metadata.account_id, with an audit record', async () => {
      const accountId = await createAccount(t.url, admin);
      const cus = `cus_${randomUUID().slice(0, 12)}`;
      const created = stripeEvent('customer.created', customer(cus, { accountId, email: 'a@example.test' }));
      await deliver(t.url, created);
      await until(statusIs(t.db, created.id, ['processed']), 'customer.created processed');
      expect(await accountMirror(t.db, accountId)).toMatchObject({
        stripe_customer_id: cus,
        stripe_balance: '0',
        stripe_email: 'a@example.test',
      });
      expect(await auditCount(t.db, 'account.stripe_customer_linked', accountId)).toBe(1);

      // Found by stripe_customer_id from now on, even without metadata.
      const updated = stripeEvent(
        'customer.updated',
        customer(cus, { balance: -2500, email: 'b@example.test', pm: 'pm_123' }),
        { created: created.created + 10 },
      );
      await deliver(t.url, updated);
      await until(statusIs(t.db, updated.id, ['processed']), 'customer.updated processed');
      expect(await accountMirror(t.db, accountId)).toMatchObject({
        stripe_balance: '-2500',
        stripe_email: 'b@example.test',
        stripe_default_payment_method_id: 'pm_123',
        stripe_customer_deleted: false,
      });
      expect(await auditCount(t.db, 'account.stripe_balance_changed', accountId)).toBe(1);

      // An older event arriving late never moves the mirror backwards (R-SM-3).
      const late = stripeEvent('customer.updated', customer(cus, { balance: 700 }), {
        created: created.created + 5,
      });
      await deliver(t.url, late);
      const lateRow = await until(statusIs(t.db, late.id, ['processed']), 'late event processed');
      expect(lateRow.outcome).toBe('skipped_stale');
      expect((await accountMirror(t.db, accountId))?.stripe_balance).toBe('-2500');

      const deleted = stripeEvent('customer.deleted', customer(cus, { balance: -2500 }), {
        created: created.created + 20,
      });
      await deliver(t.url, deleted);
      await until(statusIs(t.db, deleted.id, ['processed']), 'customer.deleted processed');
      expect((await accountMirror(t.db, accountId))?.stripe_customer_deleted).toBe(true);
      expect(await auditCount(t.db, 'account.stripe_customer_deleted', accountId)).toBe(1);
    });

    it('ignores a customer that belongs to no account', async () => {
      const event = stripeEvent('customer.updated', customer('cus_nobody', { balance: 5 }));
      await deliver(t.url, event);
      const row = await until(statusIs(t.db, event.id, ['ignored']), 'ignored');
      expect(row.outcome).toBe('ignored');
    });

    it('one event delivered 10 times concurrently: one row, one effect, one audit record', async () => {
      const accountId = await createAccount(t.url, admin);
      const cus = `cus_${randomUUID().slice(0, 12)}`;
      const event = stripeEvent('customer.updated', customer(cus, { accountId, balance: 1234 }));
      const body = JSON.stringify(event);
      const duplicatesBefore = await metricValue(
        t.url,
        'billing_webhooks_duplicates_total',
        'type="customer.updated"',
      );
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => deliver(t.url, body, { signature: sign(body) })),
      );
      expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
      expect(responses.filter((r) => (r.body as { duplicate: boolean }).duplicate)).toHaveLength(9);
      await until(statusIs(t.db, event.id, ['processed']), 'processed');
      const rows = await t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_events WHERE id = $1`,
        [event.id],
      );
      expect(rows[0]?.n).toBe(1);
      expect((await inboxRow(t.db, event.id))?.attempts).toBe(1);
      expect((await accountMirror(t.db, accountId))?.stripe_balance).toBe('1234');
      expect(await auditCount(t.db, 'account.stripe_balance_changed', accountId)).toBe(1);
      const duplicatesAfter = await metricValue(
        t.url,
        'billing_webhooks_duplicates_total',
        'type="customer.updated"',
      );
      expect(duplicatesAfter - duplicatesBefore).toBe(9);
    });

    it.each(['first', 'second'] as const)(
      'two runs of one event at once (a duplicate job, a hand-over): both apply, one commits; released %s claimer first',
      async (releasedFirst) => {
        // Stored without a queue job: only the two runs below process it.
        const event = stripeEvent('test.gated', { id: `obj_${randomUUID().slice(0, 8)}` });
        await t.db.query(
          `INSERT INTO webhook_events (id, type, api_version, livemode, event_created, received_at, payload, status,
             attempts, updated_at)
           VALUES ($1, $2, NULL, false, now(), now(), $3, 'pending', 0, now())`,
          [event.id, event.type, JSON.stringify(event)],
        );
        const processor = t.app.get(ProcessStripeEvent, { strict: false });
        gate.waiting = [];
        const first = processor.execute(event.id, { lastAttempt: false });
        await until(async () => gate.waiting.length === 1, 'the first run inside its handler');
        const second = processor.execute(event.id, { lastAttempt: false });
        await until(async () => gate.waiting.length === 2, 'the second run inside its handler');
        // The run released first marks first; the first claimer lost its claim to the second either way.
        const [firstGo, secondGo] = gate.waiting as [() => void, () => void];
        const order = releasedFirst === 'first' ? [firstGo, secondGo] : [secondGo, firstGo];
        const runs = releasedFirst === 'first' ? [first, second] : [second, first];
        order[0]?.();
        await runs[0];
        order[1]?.();
        await runs[1];
        expect({ first: await first, second: await second }).toEqual({
          first: { status: 'already_done' },
          second: { status: 'processed', outcome: 'applied' },
        });
        expect(await inboxRow(t.db, event.id)).toMatchObject({ status: 'processed', attempts: 2 });
        expect(await auditCount(t.db, 'test.gated_applied', event.id)).toBe(1);
      },
    );

    it('retries a failing handler with backoff, dead-letters it after the last attempt, and a replay applies it once', async () => {
      flaky.failuresLeft = 100;
      flaky.calls = 0;
      const event = stripeEvent('test.flaky', { id: 'obj_flaky' });
      await deliver(t.url, event);
      const dead = await until(statusIs(t.db, event.id, ['dead']), 'dead');
      expect(dead.attempts).toBe(3);
      expect(dead.last_error).toContain('downstream timeout (test)');
      expect(flaky.calls).toBe(3);
      expect(await auditCount(t.db, 'test.flaky_applied', event.id)).toBe(0);

      flaky.failuresLeft = 0;
      const replay = await http<{ replayed: string[]; skipped: string[] }>(
        t.url,
        'POST',
        `/v1/admin/webhook-events/${event.id}/replay`,
        { token: admin },
      );
      expect(replay.status).toBe(200);
      expect(replay.body.replayed).toEqual([event.id]);
      const processed = await until(statusIs(t.db, event.id, ['processed']), 'processed after replay');
      // The error of the failed attempts before the replay stays on the row for diagnosis.
      expect(processed).toMatchObject({
        attempts: 1,
        outcome: 'applied',
        last_error: 'Error: downstream timeout (test)',
      });
      expect(await auditCount(t.db, 'test.flaky_applied', event.id)).toBe(1);
      expect(await auditCount(t.db, 'webhook_event.replayed', event.id)).toBe(1);

      // Replaying what is no longer dead changes nothing.
      const again = await http<ErrorBody>(t.url, 'POST', `/v1/admin/webhook-events/${event.id}/replay`, {
        token: admin,
      });
      expect(again.status).toBe(409);
      const many = await http<{ replayed: string[]; skipped: string[] }>(
        t.url,
        'POST',
        '/v1/admin/webhook-events/replay',
        { token: admin, body: { ids: [event.id, event.id] } },
      );
      expect(many.body).toEqual({ replayed: [], skipped: [event.id] });
      expect(await auditCount(t.db, 'test.flaky_applied', event.id)).toBe(1);
    });

    it("an event its type's unchanged-check answers for is marked with that outcome, without the handler; otherwise the handler runs; a failing check is retried", async () => {
      const stale = stripeEvent('test.checked', { id: `obj_${randomUUID().slice(0, 8)}`, says: 'stale' });
      const fresh = stripeEvent('test.checked', { id: `obj_${randomUUID().slice(0, 8)}`, says: 'nothing' });
      checks.failuresLeft = 1;
      const failing = stripeEvent('test.checked', { id: `obj_${randomUUID().slice(0, 8)}`, says: 'fail' });
      for (const event of [stale, fresh, failing]) await deliver(t.url, event);
      const done = await Promise.all(
        [stale, fresh, failing].map((event) => until(statusIs(t.db, event.id, ['processed']), event.id)),
      );
      expect(done.map((row) => [row.outcome, row.attempts])).toEqual([
        ['skipped_stale', 1],
        ['applied', 1],
        ['applied', 2],
      ]);
      expect(done[2]?.last_error).toContain('check read failed');
      expect(await auditCount(t.db, 'test.checked_applied', stale.id)).toBe(0);
      expect(await auditCount(t.db, 'test.checked_applied', fresh.id)).toBe(1);
      expect(await auditCount(t.db, 'test.checked_applied', failing.id)).toBe(1);
    });

    it('dead-letters a permanent failure at once with its reason', async () => {
      const before = await metricValue(t.url, 'billing_webhook_dead_letters');
      const event = stripeEvent('test.refused', { id: 'obj_refused' });
      await deliver(t.url, event);
      const dead = await until(statusIs(t.db, event.id, ['dead']), 'dead');
      expect(dead.attempts).toBe(1);
      expect(dead.last_error).toContain('invalid transition');
      // Read from PostgreSQL on scrape (other suites may dead-letter events meanwhile: bracket it).
      const deadInDb = async (): Promise<number> =>
        (
          await t.db.query<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM webhook_events WHERE status = 'dead'`,
          )
        )[0]?.n ?? 0;
      const low = await deadInDb();
      const scraped = await metricValue(t.url, 'billing_webhook_dead_letters');
      const high = await deadInDb();
      expect(scraped).toBeGreaterThanOrEqual(Math.max(low, before + 1));
      expect(scraped).toBeLessThanOrEqual(high);
    });
  });

  describe('admin API', () => {
    const ids: string[] = [];
    const base = Math.floor(Date.now() / 1000) - 10_000;
    const type = `test.listing_${randomUUID().slice(0, 6)}`;

    beforeAll(async () => {
      for (let i = 0; i < 5; i++) {
        const event = stripeEvent(type, { id: `obj_list_${i}` }, { created: base + i * 100 });
        ids.push(event.id);
        await deliver(t.url, event);
      }
      for (const id of ids) await until(statusIs(t.db, id, ['ignored']), `${id} ignored`);
    });

    it('403 for a non-admin on every endpoint', async () => {
      const member = await tokenFor({ sub: 'member-1', role: 'member', accountId: randomUUID() });
      const support = await tokenFor({ sub: 'support-1', role: 'support' });
      for (const token of [member, support]) {
        for (const [method, path, body] of [
          ['GET', '/v1/admin/webhook-events', undefined],
          ['GET', '/v1/admin/webhook-events/counts', undefined],
          ['GET', `/v1/admin/webhook-events/${ids[0]}`, undefined],
          ['POST', `/v1/admin/webhook-events/${ids[0]}/replay`, undefined],
          ['POST', '/v1/admin/webhook-events/replay', { ids: [ids[0]] }],
        ] as const) {
          const response = await http<ErrorBody>(t.url, method, path, { token, body });
          expect(response.status).toBe(403);
        }
      }
      expect((await http(t.url, 'GET', '/v1/admin/webhook-events')).status).toBe(401);
    });

    it('filters by type, status and created range, and pages with a cursor', async () => {
      const all = await http<EventPage>(t.url, 'GET', `/v1/admin/webhook-events?type=${type}&limit=2`, {
        token: admin,
      });
      expect(all.status).toBe(200);
      expect(all.body.data).toHaveLength(2);
      expect(all.body.has_more).toBe(true);
      const seen = [...all.body.data.map((e) => e.id)];
      let cursor = all.body.next_cursor;
      while (cursor) {
        const page = await http<EventPage>(
          t.url,
          'GET',
          `/v1/admin/webhook-events?type=${type}&limit=2&cursor=${cursor}`,
          { token: admin },
        );
        seen.push(...page.body.data.map((e) => e.id));
        cursor = page.body.next_cursor;
      }
      expect(seen.sort()).toEqual([...ids].sort());

      const range = await http<EventPage>(
        t.url,
        'GET',
        `/v1/admin/webhook-events?type=${type}&status=ignored&createdFrom=${new Date((base + 100) * 1000).toISOString()}&createdTo=${new Date((base + 300) * 1000).toISOString()}`,
        { token: admin },
      );
      expect(range.body.data.map((e) => e.id).sort()).toEqual([ids[1], ids[2]].sort());

      const none = await http<EventPage>(t.url, 'GET', `/v1/admin/webhook-events?type=${type}&status=dead`, {
        token: admin,
      });
      expect(none.body.data).toEqual([]);

      const bad = await http<ErrorBody>(t.url, 'GET', '/v1/admin/webhook-events?status=exploded', {
        token: admin,
      });
      expect(bad.status).toBe(400);
    });

    it('shows one event with its payload, 404 for an unknown id, and counts by status', async () => {
      const one = await http<{ id: string; payload: { data: { object: { id: string } } }; lastError: null }>(
        t.url,
        'GET',
        `/v1/admin/webhook-events/${ids[0]}`,
        { token: admin },
      );
      expect(one.status).toBe(200);
      expect(one.body.payload.data.object.id).toBe('obj_list_0');
      expect(one.body.lastError).toBeNull();
      expect(
        (await http(t.url, 'GET', `/v1/admin/webhook-events/${eventId()}`, { token: admin })).status,
      ).toBe(404);
      const ignoredInDb = async (): Promise<number> =>
        (
          await t.db.query<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM webhook_events WHERE status = 'ignored'`,
          )
        )[0]?.n ?? 0;
      const low = await ignoredInDb();
      const counts = await http<Record<string, number>>(t.url, 'GET', '/v1/admin/webhook-events/counts', {
        token: admin,
      });
      const high = await ignoredInDb();
      expect(counts.body.ignored).toBeGreaterThanOrEqual(Math.max(low, ids.length));
      expect(counts.body.ignored).toBeLessThanOrEqual(high);
      expect(Object.keys(counts.body).sort()).toEqual([
        'dead',
        'failed',
        'ignored',
        'pending',
        'processed',
        'processing',
      ]);
    });
  });

  describe('metrics', () => {
    it('serves Prometheus text: received by type, lag, queue depth, HTTP durations by route', async () => {
      const response = await fetch(`${t.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(text).toMatch(/billing_webhooks_received_total\{type="customer.updated"\} [1-9]/);
      expect(text).toMatch(/billing_webhook_processing_lag_seconds_count\{outcome="applied"\} [1-9]/);
      expect(text).toMatch(/billing_queue_jobs\{queue="webhooks",state="waiting"\} \d+/);
      expect(text).toMatch(
        /billing_http_request_duration_seconds_count\{method="POST",route="\/webhooks\/stripe",status_code="200"\} [1-9]/,
      );
      expect(text).toContain('billing_process_cpu_user_seconds_total');
    });
  });
});

describe('Stripe event handler registry', () => {
  it('refuses to start when two handlers claim one event type, naming both', async () => {
    await expect(startTestApp({ role: 'worker', providers: [FirstClaim, SecondClaim] })).rejects.toThrow(
      /"test\.claimed_twice" has 2 handlers: FirstClaim\.handle, SecondClaim\.handle/,
    );
  });
});
