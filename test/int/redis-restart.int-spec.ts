import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Queue } from 'bull';
import { JobQueue } from '../../apps/billing-api/src/platform/queue/job-queue.js';
import { QueueSchedules } from '../../apps/billing-api/src/platform/queue/queue-schedules.js';
import { JOBS, type JobName } from '../../apps/billing-api/src/platform/queue/queue.registry.js';
import { PrivateRedis } from '../support/private-redis.js';
import { startPaymentsStack, type PaymentsStack } from './notifications.support.js';
import {
  accountWithCustomer,
  attachMethod,
  http,
  randomUUID,
  until,
  type TestAccount,
} from './payments-support.js';

/**
 * Issue 16, defect 2: Bull keeps schedules in Redis only. A Redis that comes back empty (restarted
 * without persistence) used to stop every janitor and sweeper until the app restarted. Here a private
 * redis-server is killed while payments are being made, and a fresh empty one started on its port: every
 * repeatable job of the registry (and the inbox sweep) is scheduled again by itself and runs, and nothing
 * is lost (the payment left `unknown` is settled, the webhooks that arrived meanwhile are applied, every
 * receipt e-mail is sent).
 */
describe('a Redis restart under load: every schedule comes back and runs, nothing is lost', () => {
  let redis: PrivateRedis;
  let s: PaymentsStack;
  let a: TestAccount;
  let visa: string;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    s = await startPaymentsStack({
      REDIS_URL: redis.url,
      SCHEDULE_CHECK_INTERVAL_MS: '2000',
      WEBHOOK_SWEEP_INTERVAL_MS: '1000',
      WEBHOOK_SWEEP_AFTER_MS: '500',
      WEBHOOK_ENQUEUE_TIMEOUT_MS: '200',
    });
    a = await accountWithCustomer(s);
    visa = await attachMethod(s, a, 'pm_card_visa');
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await redis?.kill();
  });

  const jobs = (): JobQueue => s.t.app.get(JobQueue);
  const queueOf = (name: JobName): Queue => jobs().queueFor(name);
  /** The names of the schedules Redis holds, over every queue. */
  const scheduled = async (): Promise<string[]> => {
    const names: string[] = [];
    for (const { queue } of jobs().all()) names.push(...(await queue.getRepeatableJobs()).map((r) => r.name));
    return names.sort();
  };
  const pay = (amount: number) =>
    http<{ id: string; status: string }>(s.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount, currency: 'usd', paymentMethodId: visa },
      headers: { 'idempotency-key': randomUUID() },
    });

  it('kills Redis under load, starts it empty: schedules are back and run, the unknown payment is settled, every webhook and e-mail goes through', async () => {
    const expected = [
      ...Object.entries(JOBS)
        .filter(([, def]) => 'repeat' in def)
        .map(([name]) => name),
      'maintenance.sweep-webhook-inbox',
      'maintenance.scan-reminders',
      'maintenance.dunning-catch-up',
    ].sort();
    expect([...s.t.app.get(QueueSchedules).kept().keys()].sort()).toEqual(expected);
    expect(await scheduled()).toEqual(expected);

    // Jobs that only Redis holds when it dies: the e-mails and webhook events of these payments wait in
    // their queues (this worker takes none for now), and are lost with Redis.
    const held = [queueOf('notifications.send'), queueOf('webhooks.process-event')];
    for (const queue of held) await queue.pause(true, true);
    const before = await Promise.all(Array.from({ length: 4 }, (_, i) => pay(1000 + i)));
    await until(
      async () => (await queueOf('notifications.send').getWaitingCount()) >= before.length,
      'e-mail jobs waiting in Redis',
    );
    // Load: payments in flight when Redis dies, more while it is down (their webhooks arrive meanwhile).
    const inFlight = Array.from({ length: 4 }, (_, i) => pay(2000 + i));
    await redis.kill();
    const during = Array.from({ length: 4 }, (_, i) => pay(3000 + i));
    // A payment a crashed request left with its outcome unknown: only the janitor settles it.
    const unknownId = randomUUID();
    await s.t.db.query(
      `INSERT INTO payments (id, account_id, stripe_customer_id, amount, currency, status, amount_received,
         amount_refunded, metadata, stripe_payment_method_id, origin, version, created_at, updated_at)
       VALUES ($1, $2, $3, 3000, 'usd', 'unknown', 0, 0, '{}', $4, 'api', 1, $5, $5)`,
      [unknownId, a.accountId, a.customerId, visa, s.t.clock.now()],
    );
    await redis.start();
    const restartedAt = Date.now();
    for (const queue of held) await queue.resume(true);

    const answers = [...before, ...(await Promise.all([...inFlight, ...during]))];
    expect(answers.map((r) => r.status).filter((st) => st !== 201 && st !== 202)).toEqual([]);
    // The sweepers hand on outbox rows older than their thresholds (30 s for e-mails).
    s.t.clock.advance(31_000);

    // Every schedule is back by itself (on the reconnect, or the periodic check).
    await until(
      async () => JSON.stringify(await scheduled()) === JSON.stringify(expected),
      'every schedule back',
      20_000,
    );
    // And runs: each one's next run is brought forward (the purge runs hourly) and completes.
    for (const name of expected as JobName[]) {
      const queue = queueOf(name);
      await until(
        async () => {
          const done = await queue.getCompleted();
          if (done.some((j) => j.name === name && (j.finishedOn ?? 0) >= restartedAt)) return true;
          for (const next of (await queue.getDelayed()).filter((j) => j.name === name)) {
            await next.promote().catch(() => undefined); // already running: fine
          }
          return false;
        },
        `${name} ran after the restart`,
        20_000,
      );
    }

    // Nothing lost: the unknown payment is settled by the janitor, with one PaymentIntent.
    await until(
      async () =>
        (
          await s.t.db.query<{ status: string }[]>(`SELECT status FROM payments WHERE id = $1`, [unknownId])
        )[0]?.status === 'succeeded',
      'the unknown payment settled',
      20_000,
    );
    // Every webhook stored is applied (those that came while Redis was down were queued by the sweeper).
    await until(
      async () =>
        (
          await s.t.db.query<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM webhook_events WHERE status NOT IN ('processed', 'ignored')`,
          )
        )[0]?.n === 0,
      'every webhook applied',
      30_000,
    );
    // Every payment has its receipt e-mail sent (the sweeper queues those whose enqueue was lost).
    const paymentIds = [...answers.map((r) => r.body.id), unknownId];
    await until(
      async () => {
        const rows = await s.t.db.query<{ status: string }[]>(
          `SELECT n.status FROM notifications n WHERE n.account_id = $1`,
          [a.accountId],
        );
        return rows.length >= paymentIds.length && rows.every((r) => r.status === 'sent');
      },
      'every e-mail sent',
      30_000,
    );
    const succeeded = await s.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM payments WHERE id = ANY($1) AND status = 'succeeded'`,
      [paymentIds],
    );
    expect(succeeded[0]?.n).toBe(paymentIds.length);
  }, 120_000);
});
