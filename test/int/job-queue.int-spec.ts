import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { JobQueue } from '../../apps/billing-api/src/platform/queue/job-queue.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('JobQueue.ensureQueued (the outbox sweepers rely on it)', () => {
  let api: TestApp;
  let all: TestApp;

  beforeAll(async () => {
    // An api process has no consumers: its jobs stay waiting. An `all` process runs them.
    [api, all] = await Promise.all([startTestApp({ role: 'api' }), startTestApp({ role: 'all' })]);
  });
  afterAll(async () => {
    await Promise.all([api.close(), all.close()]);
  });

  it('does not queue a job twice while one with its id is waiting', async () => {
    const jobs = api.app.get(JobQueue);
    const id = `sweep-${randomUUID()}`;
    expect(await jobs.ensureQueued('maintenance.purge-idempotency-keys', {}, id)).toBe('queued');
    expect(await jobs.ensureQueued('maintenance.purge-idempotency-keys', {}, id)).toBe('already_queued');
    const job = await jobs.queueFor('maintenance.purge-idempotency-keys').getJob(id);
    expect(await job?.getState()).toBe('waiting');
  });

  it('queues again once the job with that id has finished', async () => {
    const jobs = all.app.get(JobQueue);
    const id = `sweep-${randomUUID()}`;
    expect(await jobs.ensureQueued('maintenance.purge-idempotency-keys', {}, id)).toBe('queued');
    const first = await jobs.queueFor('maintenance.purge-idempotency-keys').getJob(id);
    await first?.finished();
    expect(await jobs.ensureQueued('maintenance.purge-idempotency-keys', {}, id)).toBe('queued');
    const second = await jobs.queueFor('maintenance.purge-idempotency-keys').getJob(id);
    const result = (await second?.finished()) as { deleted: number };
    expect(Number.isSafeInteger(result.deleted)).toBe(true);
  });
});
