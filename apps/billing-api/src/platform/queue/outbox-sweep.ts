import type { DataSource } from 'typeorm';
import type { JobQueue } from './job-queue.js';
import type { JobName, JobPayloads } from './queue.registry.js';

/**
 * The sweep of an outbox table (notifications, integration deliveries): every row still `pending` and
 * not touched since `before` gets its job again, unless that job is still waiting or running
 * (`JobQueue.ensureQueued`; the job id is the row id). Catches jobs whose after-commit enqueue was lost
 * (Redis down at commit, a process dying in between). `table` is a constant of the calling module.
 */
export async function requeuePendingRows<N extends JobName>(
  db: DataSource,
  jobs: JobQueue,
  sweep: { table: string; job: N; payload: (id: string) => JobPayloads[N]; before: Date; limit: number },
): Promise<{ requeued: number }> {
  const rows = await db.query<{ id: string }[]>(
    `SELECT id FROM ${sweep.table} WHERE status = 'pending' AND updated_at < $1 ORDER BY created_at LIMIT $2`,
    [sweep.before, sweep.limit],
  );
  let requeued = 0;
  for (const { id } of rows) {
    if ((await jobs.ensureQueued(sweep.job, sweep.payload(id), id)) === 'queued') requeued += 1;
  }
  return { requeued };
}
