import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { RunDunningStepHandler } from '../../apps/billing-api/src/modules/dunning/commands/run-dunning-step/run-dunning-step.handler.js';
import { OnDomainEvent, type DomainEvent } from '../../apps/billing-api/src/platform/events/domain-event.js';
import { PrivateRedis } from '../support/private-redis.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import {
  advanceTo,
  DAY,
  DunningEventRecorder,
  failedRenewal,
  stepsAre,
  stripeRetriesOff,
  subscriptionRow,
  UNTIL_SUSPENDED,
} from './dunning.support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { until } from './webhooks.support.js';

/**
 * A worker that dies after Day 5's retry reached Stripe and before its transaction committed: the first
 * time Day 5 is published, this listener throws inside the step's transaction, so the step's row, its
 * event and the counted attempt roll back as a crash would leave them.
 */
@Injectable()
class CrashOnceAfterRetry {
  crashed = 0;

  @OnDomainEvent('dunning.step_ran')
  heard(event: DomainEvent<'dunning.step_ran'>): void {
    if (event.payload.stepId === 'day_5' && this.crashed === 0) {
      this.crashed += 1;
      throw new Error('worker killed after the Stripe call, before the commit');
    }
  }
}

// R-DUN-5: the timeline never depends on one process or on Redis keeping its jobs. Redis is killed and
// comes back empty mid-timeline, a step's transaction dies after its Stripe call, and several workers
// run the same case at once: each step still runs exactly once, and Stripe sees each attempt once.
describe('dunning survives a flushed Redis, a crash after the retry, and concurrent workers', () => {
  let redis: PrivateRedis;
  let w: StripeWorld;
  let recorder: DunningEventRecorder;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    w = await startStripeWorld({
      env: {
        REDIS_URL: redis.url,
        DUNNING_CATCH_UP_INTERVAL_MS: '500',
        SCHEDULE_CHECK_INTERVAL_MS: '1000',
        WEBHOOK_SWEEP_INTERVAL_MS: '1000',
        WEBHOOK_SWEEP_AFTER_MS: '500',
        WEBHOOK_ENQUEUE_TIMEOUT_MS: '200',
      },
      providers: [DunningEventRecorder, CrashOnceAfterRetry],
    });
    recorder = w.t.app.get(DunningEventRecorder);
    await stripeRetriesOff(w);
    prices = await createCatalogue(w.stripe);
  }, 60_000);
  afterAll(async () => {
    await w?.close();
    await redis?.kill();
  });

  it('runs Day 3 after Redis came back empty, Day 5 once after a crash, Day 7 once under four workers', async () => {
    const { a, sub, invoice, day0 } = await failedRenewal(w, prices);
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'pending', day_5: 'pending', day_7: 'pending' });

    // Redis dies and comes back empty while the clock passes Day 3: the clock's event is stored in the
    // inbox but its job is lost; the sweeper, the kept schedules and the catch-up bring Day 3 back.
    await redis.kill();
    await advanceTo(w, a, day0 + 3 * DAY + 60);
    await redis.start();
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'done', day_5: 'pending', day_7: 'pending' });
    expect((await w.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(2);

    // Day 5: the first run dies after Stripe declined the attempt; the job's retry runs the step again
    // with the same idempotency key, so Stripe counts one attempt, and the app one step.
    await advanceTo(w, a, day0 + 5 * DAY + 60);
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'done', day_5: 'done', day_7: 'pending' }, 60_000);
    expect(w.t.app.get(CrashOnceAfterRetry).crashed).toBe(1);
    expect((await w.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(3);
    await until(async () => (await subscriptionRow(w, sub)).failed_attempts === 3, 'three attempts counted');

    // Day 7 with four more workers running the case at the same time as the queued job.
    await advanceTo(w, a, day0 + 7 * DAY + 60);
    const caseId = (
      await w.t.db.query<{ id: string }[]>(`SELECT id FROM dunning_cases WHERE stripe_invoice_id = $1`, [
        invoice.id,
      ])
    )[0]?.id;
    if (!caseId) throw new Error('no case');
    const runner = w.t.app.get(RunDunningStepHandler);
    const runs = await Promise.all(Array.from({ length: 4 }, () => runner.runDue(caseId)));
    await stepsAre(w, invoice.id, { day_0: 'done', day_3: 'done', day_5: 'done', day_7: 'done' });
    expect(runs.flatMap((r) => r.ran).filter((s) => s === 'day_7').length).toBeLessThanOrEqual(1);
    await until(async () => (await subscriptionRow(w, sub)).state === 'suspended', 'suspended');

    expect(recorder.of(a.accountId)).toEqual(UNTIL_SUSPENDED);
    expect((await w.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(3);
    const audited = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'dunning.step_ran' AND account_id = $1`,
      [a.accountId],
    );
    expect(audited[0]?.n).toBe(4);
  }, 180_000);
});
