/**
 * The V8 flags the service runs with in production (the Dockerfile's NODE_OPTIONS, `npm start`), so that
 * the benches measure the same process. `--max-semi-space-size=64` (MiB, V8's default is 16): the service
 * allocates a lot of short-lived objects per request (Fastify, TypeORM, pg, the Stripe SDK), and with the
 * small default young generation V8 scavenged so often that it cost about a tenth of the api's CPU per
 * payment (bench:payments, alternating runs, session 7). The young generation only grows to the maximum
 * under such a load: about 90 MiB more resident per busy process (docs/operations.md, Processes).
 */
export const SERVICE_NODE_ARGS = ['--max-semi-space-size=64'];
