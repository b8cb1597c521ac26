import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { AuditFacade } from '../../apps/billing-api/src/modules/audit/audit.facade.js';
import {
  HandlesStripeEvents,
  LocksStripeEventBatches,
  type StripeEventContext,
  type StripeEventPayload,
} from '../../apps/billing-api/src/modules/webhooks/contracts/stripe-event-handler.js';
import { InboxWriter } from '../../apps/billing-api/src/modules/webhooks/persistence/inbox-writer.js';
import { InboxQueue } from '../../apps/billing-api/src/modules/webhooks/processing/inbox-queue.js';
import { ProcessStripeEvent } from '../../apps/billing-api/src/modules/webhooks/processing/process-stripe-event.js';
import { BeforeCommit } from '../../apps/billing-api/src/platform/database/before-commit.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import {
  deliver,
  inboxRow,
  queueAsOneBatch,
  randomUUID,
  SECRET,
  statusIs,
  storeAsOneGroup,
  stripeEvent,
  until,
} from './webhooks.support.js';

/** Test-only handlers: one that records the order it saw, one that fails a given number of times. */
const failing = { left: 0 };
/** The event ids each call of the batch lock was given. */
const batchLocks: string[][] = [];

@Injectable()
class BatchTestHandlers {
  constructor(private readonly audit: AuditFacade) {}

  /** Records the event as applied to its object, in the event's transaction. */
  @HandlesStripeEvents('test.batch_step')
  async step(event: StripeEventPayload, ctx: StripeEventContext): Promise<'applied'> {
    await this.record('test.batch_step_applied', event, ctx);
    return 'applied';
  }

  /** The batch lock of `test.batch_step`: records the events it is given. */
  @LocksStripeEventBatches('test.batch_step')
  lockBatch(events: StripeEventPayload[]): Promise<void> {
    batchLocks.push(events.map((event) => event.id));
    return Promise.resolve();
  }

  /** Fails while `failing.left` is above zero, after writing (the write must be rolled back). */
  @HandlesStripeEvents('test.batch_failing')
  async failing(event: StripeEventPayload, ctx: StripeEventContext): Promise<'applied'> {
    await this.record('test.batch_failing_applied', event, ctx);
    if (failing.left > 0) {
      failing.left--;
      throw new Error('downstream timeout (batch test)');
    }
    return 'applied';
  }

  private record(action: string, event: StripeEventPayload, ctx: StripeEventContext): Promise<void> {
    return this.audit.record(
      {
        accountId: null,
        action,
        entityType: 'test_object',
        entityId: (event.data.object as { id: string }).id,
        after: { eventId: event.id, created: ctx.event.created },
        actor: { type: 'stripe_event', id: ctx.event.id },
      },
      ctx.manager,
    );
  }
}

// Issue 22: events stored together by the intake's group commit and applied together by one job.
describe('Stripe webhooks in batches: group commit at intake, one transaction per batch', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      role: 'all',
      env: { STRIPE_WEBHOOK_SECRETS: SECRET, WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_BACKOFF_MS: '20' },
      providers: [BatchTestHandlers],
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const applied = async (objectId: string) =>
    t.db.query<{ event_id: string; actor_id: string }[]>(
      `SELECT after->>'eventId' AS event_id, actor_id FROM audit_log
        WHERE action = 'test.batch_step_applied' AND entity_id = $1 ORDER BY id`,
      [objectId],
    );
  const store = (events: ReturnType<typeof stripeEvent>[], jobId: string) =>
    storeAsOneGroup(t.db, events, jobId);
  const queueAsOneJob = (events: ReturnType<typeof stripeEvent>[]) => queueAsOneBatch(t, events);

  it('events written in one tick share a group commit and a job; each is stored once and applied', async () => {
    const writer = t.app.get(InboxWriter, { strict: false });
    const events = Array.from({ length: 20 }, () =>
      stripeEvent('test.batch_step', { id: `obj_${randomUUID().slice(0, 8)}` }),
    );
    // Written without awaiting in between: all but the first ones wait for the INSERT in flight.
    const results = await Promise.all(
      [...events, events[0]!].map((event) =>
        writer.write({
          id: event.id,
          type: event.type,
          apiVersion: event.api_version,
          livemode: false,
          created: event.created,
          payload: JSON.stringify(event),
          rawBody: null,
        }),
      ),
    );
    // The second delivery of the first event in the same tick is a duplicate of it.
    expect(results.filter((r) => r.stored)).toHaveLength(20);
    expect(results[20]).toEqual({ stored: false, duplicate: true });
    const ids = events.map((e) => e.id);
    const jobs = await t.db.query<{ job_id: string; n: number }[]>(
      `SELECT job_id, count(*)::int AS n FROM webhook_events WHERE id = ANY($1) GROUP BY job_id`,
      [ids],
    );
    expect(jobs.length).toBeLessThan(events.length);
    expect(jobs.every((j) => j.job_id.startsWith('events:'))).toBe(true);
    for (const event of events) await until(statusIs(t.db, event.id, ['processed']), 'processed');
    for (const event of events) {
      expect(await applied((event.data.object as { id: string }).id)).toEqual([
        { event_id: event.id, actor_id: event.id },
      ]);
    }
  });

  it('a batch applies the events of one object oldest first, whatever order they came in', async () => {
    const objectId = `obj_${randomUUID().slice(0, 8)}`;
    const base = Math.floor(Date.now() / 1000);
    const events = [3, 1, 2].map((k) =>
      stripeEvent('test.batch_step', { id: objectId }, { created: base + k }),
    );
    await queueAsOneJob(events);
    for (const event of events) await until(statusIs(t.db, event.id, ['processed']), 'processed');
    const oldestFirst = [...events].sort((a, b) => a.created - b.created).map((e) => e.id);
    expect((await applied(objectId)).map((r) => r.event_id)).toEqual(oldestFirst);
  });

  it("a batch applies one customer's events together, oldest first, then in arrival order, across objects", async () => {
    // An invoice's failed payment moves its subscription through dunning: the subscription's own older (or
    // same-second) event must not come after it. Ids are chosen so that sorting by object or by id would
    // give another order than the arrival's.
    const customer = `cus_${randomUUID().slice(0, 8)}`;
    const other = `cus_${randomUUID().slice(0, 8)}`;
    const base = Math.floor(Date.now() / 1000);
    const sub = stripeEvent(
      'test.batch_step',
      { id: `sub_${randomUUID().slice(0, 8)}`, customer },
      {
        id: `evt_z${randomUUID().slice(0, 8)}`,
        created: base,
      },
    );
    const inv = stripeEvent(
      'test.batch_step',
      { id: `in_${randomUUID().slice(0, 8)}`, customer },
      {
        id: `evt_a${randomUUID().slice(0, 8)}`,
        created: base,
      },
    );
    const older = stripeEvent(
      'test.batch_step',
      { id: `pi_${randomUUID().slice(0, 8)}`, customer },
      {
        created: base - 5,
      },
    );
    const elsewhere = stripeEvent('test.batch_step', {
      id: `in_${randomUUID().slice(0, 8)}`,
      customer: other,
    });
    const events = [sub, inv, elsewhere, older];
    await queueAsOneJob(events);
    for (const event of events) await until(statusIs(t.db, event.id, ['processed']), 'processed');
    const order = await t.db.query<{ actor_id: string }[]>(
      `SELECT actor_id FROM audit_log WHERE action = 'test.batch_step_applied' AND actor_id = ANY($1) ORDER BY id`,
      [[sub.id, inv.id, older.id]],
    );
    expect(order.map((r) => r.actor_id)).toEqual([older.id, sub.id, inv.id]);
  });

  it("a batch's lock is called once, before its handlers, with the first event of each customer", async () => {
    const processor = t.app.get(ProcessStripeEvent, { strict: false });
    const [cusA, cusB] = [`cus_a${randomUUID().slice(0, 8)}`, `cus_b${randomUUID().slice(0, 8)}`];
    const base = Math.floor(Date.now() / 1000);
    const b1 = stripeEvent(
      'test.batch_step',
      { id: `sub_${randomUUID().slice(0, 8)}`, customer: cusB },
      {
        created: base,
      },
    );
    const a1 = stripeEvent(
      'test.batch_step',
      { id: `sub_${randomUUID().slice(0, 8)}`, customer: cusA },
      {
        created: base,
      },
    );
    const a2 = stripeEvent(
      'test.batch_step',
      { id: `sub_${randomUUID().slice(0, 8)}`, customer: cusA },
      {
        created: base + 1,
      },
    );
    const events = [b1, a2, a1];
    await store(events, `events:${randomUUID()}`);
    batchLocks.length = 0;
    const results = await processor.executeBatch(
      events.map((e) => e.id),
      { lastAttempt: false },
    );
    for (const event of events)
      expect(results.get(event.id)).toEqual({ status: 'processed', outcome: 'applied' });
    expect(batchLocks).toEqual([[a1.id, b1.id]]);
    // Alone, an event is locked by its handler: no batch lock.
    const alone = stripeEvent('test.batch_step', { id: `sub_${randomUUID().slice(0, 8)}`, customer: cusA });
    await store([alone], `events:${randomUUID()}`);
    batchLocks.length = 0;
    await processor.executeBatch([alone.id], { lastAttempt: false });
    expect(batchLocks).toEqual([]);
  });

  it('a batch defers an event whose customer has an older event of another object waiting elsewhere', async () => {
    const processor = t.app.get(ProcessStripeEvent, { strict: false });
    const customer = `cus_${randomUUID().slice(0, 8)}`;
    const base = Math.floor(Date.now() / 1000);
    const subscriptionEvent = stripeEvent(
      'test.batch_step',
      { id: `sub_${randomUUID().slice(0, 8)}`, customer },
      { created: base + 1 },
    );
    const invoiceEvent = stripeEvent(
      'test.batch_step',
      { id: `in_${randomUUID().slice(0, 8)}`, customer },
      { created: base + 2 },
    );
    // The customer itself is keyed by its own id: its event orders with its objects' events.
    const customerEvent = stripeEvent(
      'test.batch_step',
      { id: customer, object: 'customer' },
      { created: base + 3 },
    );
    await store([subscriptionEvent], `events:${randomUUID()}`);
    await store([invoiceEvent, customerEvent], `events:${randomUUID()}`);
    const deferred = await processor.executeBatch([invoiceEvent.id, customerEvent.id], {
      lastAttempt: false,
    });
    expect(deferred.get(invoiceEvent.id)).toEqual({ status: 'deferred' });
    expect(deferred.get(customerEvent.id)).toEqual({ status: 'deferred' });
    expect(
      (await processor.executeBatch([subscriptionEvent.id], { lastAttempt: false })).get(
        subscriptionEvent.id,
      ),
    ).toEqual({ status: 'processed', outcome: 'applied' });
    const after = await processor.executeBatch([invoiceEvent.id, customerEvent.id], { lastAttempt: false });
    expect(after.get(invoiceEvent.id)).toEqual({ status: 'processed', outcome: 'applied' });
    expect(after.get(customerEvent.id)).toEqual({ status: 'processed', outcome: 'applied' });
  });

  it('an event that fails leaves its batch-mates applied; it is retried alone and applied once', async () => {
    failing.left = 1;
    const good = Array.from({ length: 3 }, () =>
      stripeEvent('test.batch_step', { id: `obj_${randomUUID().slice(0, 8)}` }),
    );
    const bad = stripeEvent('test.batch_failing', { id: `obj_${randomUUID().slice(0, 8)}` });
    const events = [good[0]!, bad, good[1]!, good[2]!];
    await queueAsOneJob(events);
    for (const event of good) {
      const row = await until(statusIs(t.db, event.id, ['processed']), 'processed');
      expect(row.attempts).toBe(1);
    }
    const retried = await until(statusIs(t.db, bad.id, ['processed']), 'the failed event applied on retry');
    expect(retried.attempts).toBe(2);
    expect(retried.last_error).toContain('downstream timeout (batch test)');
    // The failed attempt's write was rolled back with its transaction: one effect, from the retry.
    const effects = await t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'test.batch_failing_applied' AND actor_id = $1`,
      [bad.id],
    );
    expect(effects[0]?.n).toBe(1);
    for (const event of good) expect(await applied((event.data.object as { id: string }).id)).toHaveLength(1);
  });

  it('a batch defers an event whose object has an older event waiting elsewhere; it runs after it', async () => {
    const processor = t.app.get(ProcessStripeEvent, { strict: false });
    const objectId = `obj_${randomUUID().slice(0, 8)}`;
    const base = Math.floor(Date.now() / 1000);
    const [older, newer] = [1, 2].map((k) =>
      stripeEvent('test.batch_step', { id: objectId }, { created: base + k }),
    );
    await store([older!], `events:${randomUUID()}`);
    await store([newer!], `events:${randomUUID()}`);
    // The newer event's batch runs first: it is not claimed while the older one waits.
    expect((await processor.executeBatch([newer!.id], { lastAttempt: false })).get(newer!.id)).toEqual({
      status: 'deferred',
    });
    expect((await inboxRow(t.db, newer!.id))?.status).toBe('pending');
    for (const event of [older!, newer!]) {
      expect((await processor.executeBatch([event.id], { lastAttempt: false })).get(event.id)).toEqual({
        status: 'processed',
        outcome: 'applied',
      });
    }
    expect((await applied(objectId)).map((r) => r.event_id)).toEqual([older!.id, newer!.id]);
  });

  it('a deferred event is queued again alone and applied even if the older one is still waiting', async () => {
    const objectId = `obj_${randomUUID().slice(0, 8)}`;
    const base = Math.floor(Date.now() / 1000);
    const [older, newer] = [1, 2].map((k) =>
      stripeEvent('test.batch_step', { id: objectId }, { created: base + k }),
    );
    await store([older!], `events:${randomUUID()}`); // stored, never queued: it waits until the test runs it
    const jobId = `events:${randomUUID()}`;
    await store([newer!], jobId);
    await t.app.get(InboxQueue, { strict: false }).enqueueBatch([newer!.id], ['batch-test'], jobId);
    // Deferred by its batch, then run alone (never deferred twice: a wait that stays short).
    await until(statusIs(t.db, newer!.id, ['processed']), 'the deferred event applied');
    const processor = t.app.get(ProcessStripeEvent, { strict: false });
    // The older event runs after it: the batch deferred the newer one once, it did not wait for the older.
    // (A real handler's ordering rule then skips the older one as stale.)
    expect((await processor.executeBatch([older!.id], { lastAttempt: false })).get(older!.id)).toEqual({
      status: 'processed',
      outcome: 'applied',
    });
    expect((await applied(objectId)).map((r) => r.event_id)).toEqual([newer!.id, older!.id]);
  });

  it('the sweeper leaves an event waiting in its batch job alone, and queues one whose batch job is gone', async () => {
    const queue = t.app.get(InboxQueue, { strict: false });
    const event = stripeEvent('test.batch_step', { id: `obj_${randomUUID().slice(0, 8)}` });
    const jobId = `events:${randomUUID()}`;
    await store([event], jobId);
    // A batch job that waits (delayed far ahead): the event is already queued.
    await queue
      .queue()
      .add(
        'webhooks.process-events',
        { correlationId: 'batch-test', payload: { eventIds: [event.id], correlationIds: ['batch-test'] } },
        { jobId, delay: 3_600_000 },
      );
    expect(await queue.ensureQueued(event.id, { batchJobId: jobId })).toBe('already_queued');
    // The batch job lost (Redis flushed, say): the event is queued on its own and applied.
    await (await queue.queue().getJob(jobId))?.remove();
    expect(await queue.ensureQueued(event.id, { batchJobId: jobId })).toBe('queued');
    await until(statusIs(t.db, event.id, ['processed']), 'processed');
    expect(await applied((event.data.object as { id: string }).id)).toHaveLength(1);
  });

  it('a delivery through the intake is stored with its group job and applied', async () => {
    const event = stripeEvent('test.batch_step', { id: `obj_${randomUUID().slice(0, 8)}` });
    expect((await deliver(t.url, event)).status).toBe(200);
    await until(statusIs(t.db, event.id, ['processed']), 'processed');
    const [row] = await t.db.query<{ job_id: string | null }[]>(
      `SELECT job_id FROM webhook_events WHERE id = $1`,
      [event.id],
    );
    expect(row?.job_id).toMatch(/^events:/);
  });
});

describe('BeforeCommit: once per transaction, just before the commit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ role: 'api' });
    await t.db.query(`CREATE TABLE IF NOT EXISTS before_commit_test (key text, n int)`);
  });
  afterAll(async () => {
    await t?.db.query(`DROP TABLE IF EXISTS before_commit_test`);
    await t?.close();
  });

  const count = async (key: string) =>
    (
      await t.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM before_commit_test WHERE key = $1`, [
        key,
      ])
    )[0]?.n;

  it('runs the first callback of a key once, in the transaction, reading what the transaction wrote last', async () => {
    const before = t.app.get(BeforeCommit, { strict: false });
    const key = randomUUID();
    let seen: number | undefined;
    await t.db.transaction(async (manager) => {
      for (let i = 1; i <= 3; i++) {
        await manager.query(`INSERT INTO before_commit_test (key, n) VALUES ($1, $2)`, [`${key}:change`, i]);
        await before.once(manager, key, async () => {
          const [row] = await manager.query<{ n: number }[]>(
            `SELECT max(n)::int AS n FROM before_commit_test WHERE key = $1`,
            [`${key}:change`],
          );
          seen = row?.n;
          await manager.query(`INSERT INTO before_commit_test (key, n) VALUES ($1, 0)`, [key]);
        });
      }
      expect(await count(key)).toBe(0); // not yet: only at the commit
    });
    expect(seen).toBe(3);
    expect(await count(key)).toBe(1);
  });

  it("collect gathers a group's items in the transaction and flushes them once, just before the commit", async () => {
    const before = t.app.get(BeforeCommit, { strict: false });
    const key = randomUUID();
    const flushed: string[][] = [];
    await t.db.transaction(async (manager) => {
      for (const item of ['a', 'b', 'a', 'c']) {
        await before.collect(manager, key, item, async (items) => {
          flushed.push([...items]);
          await manager.query(`INSERT INTO before_commit_test (key, n) VALUES ($1, $2)`, [key, items.length]);
        });
      }
      expect(flushed).toEqual([]);
    });
    expect(flushed).toEqual([['a', 'b', 'a', 'c']]);
    expect(await count(key)).toBe(1);
  });

  it('drops the callbacks of a transaction that rolls back, and fails the commit when a callback throws', async () => {
    const before = t.app.get(BeforeCommit, { strict: false });
    const key = randomUUID();
    await expect(
      t.db.transaction(async (manager) => {
        await before.once(manager, key, async () => {
          await manager.query(`INSERT INTO before_commit_test (key, n) VALUES ($1, 1)`, [key]);
        });
        throw new Error('rolled back (test)');
      }),
    ).rejects.toThrow('rolled back (test)');
    expect(await count(key)).toBe(0);
    await expect(
      t.db.transaction(async (manager) => {
        await manager.query(`INSERT INTO before_commit_test (key, n) VALUES ($1, 2)`, [key]);
        await before.once(manager, key, async () => {
          throw new Error('announce failed (test)');
        });
      }),
    ).rejects.toThrow('announce failed (test)');
    expect(await count(key)).toBe(0);
  });
});
