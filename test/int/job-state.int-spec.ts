import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Bull, { type Job, type Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { jobState } from '../../apps/billing-api/src/platform/queue/job-state.js';
import { TEST_REDIS_URL } from '../support/test-env.js';
import { until } from './webhooks.support.js';

/**
 * `jobState` answers what Bull's `Job.getState` answers, for a job in each of Bull's lists and sets and
 * for one in none of them (`stuck`), against the real Redis, with other jobs in the same lists.
 */
describe('jobState', () => {
  const prefix = `job-state-${randomUUID().slice(0, 8)}`;
  const queues: Queue[] = [];
  const open = (name: string): Queue => {
    const queue = new Bull(name, TEST_REDIS_URL, { prefix });
    queues.push(queue);
    return queue;
  };
  let release: () => void = () => undefined;
  const jobs = new Map<string, Job>();

  beforeAll(async () => {
    // Jobs nobody processes: waiting (behind others), delayed, and one taken out of its list (stuck).
    const idle = open('idle');
    for (let i = 0; i < 20; i += 1) await idle.add({ i });
    jobs.set('waiting', await idle.add({ which: 'waiting' }));
    for (let i = 20; i < 40; i += 1) await idle.add({ i });
    jobs.set('delayed', await idle.add({ which: 'delayed' }, { delay: 600_000 }));
    const stuck = await idle.add({ which: 'stuck' });
    await idle.client.lrem(idle.toKey('wait'), 0, String(stuck.id));
    jobs.set('stuck', stuck);

    // A paused queue keeps its new jobs in its paused list.
    const paused = open('paused');
    await paused.pause();
    jobs.set('paused', await paused.add({ which: 'paused' }));

    // Processed jobs: completed, failed (no attempt left), and one held active until the end.
    const worked = open('worked');
    const held = new Promise<void>((resolve) => (release = resolve));
    void worked.process(async (job: Job<{ which: string }>) => {
      if (job.data.which === 'failed') throw new Error('declined');
      if (job.data.which === 'active') await held;
    });
    const completed = await worked.add({ which: 'completed' });
    const failed = await worked.add({ which: 'failed' }, { attempts: 1 });
    await until(async () => (await completed.isCompleted()) && (await failed.isFailed()), 'finished');
    jobs.set('completed', completed);
    jobs.set('failed', failed);
    const active = await worked.add({ which: 'active' });
    await until(() => active.isActive(), 'active');
    jobs.set('active', active);
  }, 60_000);

  afterAll(async () => {
    release();
    for (const queue of queues) await queue.obliterate({ force: true }).catch(() => undefined);
    for (const queue of queues) await queue.close();
  });

  it.each(['waiting', 'delayed', 'active', 'completed', 'failed', 'paused', 'stuck'])(
    'names a %s job as Bull does',
    async (state) => {
      const job = jobs.get(state);
      if (!job) throw new Error(`no ${state} job`);
      expect(await job.getState()).toBe(state);
      expect(await jobState(job)).toBe(state);
    },
  );
});
