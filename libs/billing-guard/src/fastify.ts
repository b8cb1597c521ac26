import type { BillingGuard } from './billing-guard.js';
import { refusalBody, type Decision } from './decide.js';

/** The parts of Fastify (4 and 5) the hook uses. */
interface Req {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  routeOptions?: { config?: unknown };
  billingDecision?: Decision;
}
interface Reply {
  code(status: number): Reply;
  send(body: unknown): unknown;
}
interface Instance {
  addContentTypeParser(
    type: string,
    options: { parseAs: 'buffer' },
    parser: (req: unknown, body: Buffer, done: (err: Error | null, body?: unknown) => void) => void,
  ): void;
  post(path: string, handler: (req: Req, reply: Reply) => Promise<unknown>): unknown;
}

/** Per-route settings: `app.post('/exports', { config: { billing: { allowWhenReadOnly: true } } }, …)`. */
export interface BillingRouteConfig {
  billing?: { features?: readonly string[]; allowWhenReadOnly?: boolean };
}

export interface FastifyEntitlementsOptions<R = Req> {
  accountIdOf: (request: R) => string | null | undefined | Promise<string | null | undefined>;
}

/**
 * A Fastify `preHandler` enforcing the verdict: `app.addHook('preHandler', entitlementsHook(billing,
 * { accountIdOf }))`; each route's `config.billing` names its features and its read-only exemption.
 */
export function entitlementsHook<R extends Req>(
  billing: BillingGuard,
  options: FastifyEntitlementsOptions<R>,
): (request: R, reply: Reply) => Promise<void> {
  return async (request, reply) => {
    const route = (request.routeOptions?.config as BillingRouteConfig | undefined)?.billing;
    const decision = await billing.check(await options.accountIdOf(request), {
      method: request.method,
      features: route?.features ?? [],
      allowWhenReadOnly: route?.allowWhenReadOnly ?? false,
    });
    request.billingDecision = decision;
    if (!decision.allowed) await reply.code(decision.status).send(refusalBody(decision));
  };
}

/**
 * Registers the `entitlements.updated` receiver at `path` in its own scope (its JSON parser keeps the
 * raw bytes the signature covers): `await app.register(billingEventsPlugin(billing, '/billing/events'))`.
 */
export function billingEventsPlugin(billing: BillingGuard, path: string): (scope: Instance) => Promise<void> {
  return async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(path, async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : '';
      const outcome = billing.handleEvent(raw, request.headers['x-billing-signature']);
      return reply.code(outcome.status).send(outcome.body);
    });
  };
}
