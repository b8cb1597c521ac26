import type { Job, JobStatus } from 'bull';

/** A job's state as Bull's `getState` names it; `stuck`: in none of the queue's lists. */
export type JobState = JobStatus | 'stuck';

/**
 * The state of a job, as Bull's `Job.getState` answers it, in one round trip: `ZSCORE` for the sorted
 * sets (completed, failed, delayed) and `LPOS` for the lists (active, wait, paused), sent together.
 * Bull's own checks run one after the other, and each list check is a Lua script that copies the whole
 * list (`LRANGE 0 -1`) and compares every id: with thousands of jobs waiting, each call cost Redis
 * milliseconds, and a sweep that checks thousands of jobs (the dunning catch-up while a test clock's
 * 10,000 Day 3 steps wait, `npm run bench:dunning`) cost it seconds. `LPOS` (Redis 6.0.6 or later)
 * searches the list in place.
 */
export async function jobState(job: Job): Promise<JobState> {
  const { client } = job.queue;
  const id = String(job.id);
  const [completed, failed, delayed, active, waiting, paused] = await Promise.all([
    client.zscore(job.queue.toKey('completed'), id),
    client.zscore(job.queue.toKey('failed'), id),
    client.zscore(job.queue.toKey('delayed'), id),
    client.lpos(job.queue.toKey('active'), id),
    client.lpos(job.queue.toKey('wait'), id),
    client.lpos(job.queue.toKey('paused'), id),
  ]);
  if (completed !== null) return 'completed';
  if (failed !== null) return 'failed';
  if (delayed !== null) return 'delayed';
  if (active !== null) return 'active';
  if (waiting !== null) return 'waiting';
  if (paused !== null) return 'paused';
  return 'stuck';
}
