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
 * The worker's flags (docker-compose.yml's worker sets them as NODE_OPTIONS over the image's): V8's own
 * young generation (16 MiB semi-spaces). The 64 MiB above is for the api's per-request CPU; in the
 * worker it is memory a long job never gives back: a reconciliation run over 100,000 subscriptions peaked
 * at 354-393 MB resident with it and 275 MB without (bench:reconciliation, docs/benchmarks.md), against a
 * target of 300 MB. What the worker's young generation costs in CPU under webhook load is not measured here.
 */
export const WORKER_NODE_ARGS = ['--max-semi-space-size=16'];

/** The flags of a process of this role, as production runs it. */
export function nodeArgsFor(role: 'api' | 'worker' | 'all'): string[] {
  return role === 'worker' ? WORKER_NODE_ARGS : SERVICE_NODE_ARGS;
}
