/**
 * The V8 flags the service runs with in production (the Dockerfile's NODE_OPTIONS, `npm start`), so that
 * the benches measure the same process. `--max-semi-space-size=64` (MiB, V8's default is 16): the service
 * allocates a lot of short-lived objects per request (Fastify, TypeORM, pg, the Stripe SDK), and with the
 * small default young generation V8 scavenged so often that it cost about a tenth of the api's CPU per
 * payment (bench:payments, alternating runs, session 7). The young generation only grows to the maximum
 * under such a load: about 90 MiB more resident per busy process (docs/operations.md, Processes).
 */
export const SERVICE_NODE_ARGS = ['--max-semi-space-size=64'];

/**
 * The worker's flags (docker-compose.yml's worker sets them as NODE_OPTIONS over the image's):
 * - V8's own young generation (16 MiB semi-spaces). The 64 MiB above is for the api's per-request CPU; in
 *   the worker it is memory a long job never gives back: a reconciliation run over 100,000 subscriptions
 *   peaked at 354-393 MB resident with it and 275 MB without.
 * - `--max-old-space-size=384` (MiB): the worker's old generation is collected before it grows far past
 *   what is live. A reconciliation run retains ~70 MB, but the garbage of its pages reaches old space and,
 *   on a machine with this much memory (no limit given), V8 lets old space grow to up to 4x the live size
 *   before a full collection: the run peaked at 252-333 MB resident. V8 scales that growing factor with
 *   the heap limit (about 1.35x at 384 MiB), and the same run peaks at 217-222 MB, for more full
 *   collections (about a tenth more of the worker's CPU during the run). The limit is 5x the live heap; a
 *   worker that really needed more would stop with an out-of-memory error and Bull would hand its jobs on
 *   (a reconciliation run resumes from its cursor).
 * Measured with bench:reconciliation (docs/benchmarks.md, Reconciliation). What these cost in CPU under
 * webhook load is not measured here.
 */
export const WORKER_NODE_ARGS = ['--max-semi-space-size=16', '--max-old-space-size=384'];

/** The flags of a process of this role, as production runs it. */
export function nodeArgsFor(role: 'api' | 'worker' | 'all'): string[] {
  return role === 'worker' ? WORKER_NODE_ARGS : SERVICE_NODE_ARGS;
}
