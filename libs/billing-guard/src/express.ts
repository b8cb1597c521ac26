import type { BillingGuard } from './billing-guard.js';
import { refusalBody, type Decision } from './decide.js';

/** The parts of an Express request and response the middleware uses (Express 4 and 5). */
interface Req {
  method: string;
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
  billingDecision?: Decision;
}
interface Res {
  status(code: number): Res;
  json(body: unknown): unknown;
}
type Next = (error?: unknown) => void;

export interface ExpressEntitlementsOptions<R = Req> {
  /** The account the request acts for; null: nothing to check. */
  accountIdOf: (request: R) => string | null | undefined | Promise<string | null | undefined>;
  /** Features the routes behind this middleware need (all of them). */
  features?: readonly string[];
  /** Mutating requests a read-only account may still make (exports): true, or a test of the request. */
  allowWhenReadOnly?: boolean | ((request: R) => boolean);
}

/**
 * Express middleware enforcing the verdict: `app.use(entitlements(billing, { accountIdOf }))` for the
 * read-only rule on every route, and per route `entitlements(billing, { accountIdOf, features: ['sso'] })`.
 * Refusals answer 403 with `{ error: { code, message } }`; the decision is left on `req.billingDecision`.
 */
export function entitlements<R extends Req>(
  billing: BillingGuard,
  options: ExpressEntitlementsOptions<R>,
): (req: R, res: Res, next: Next) => void {
  return (req, res, next) => {
    void (async () => {
      const allow = options.allowWhenReadOnly;
      const decision = await billing.check(await options.accountIdOf(req), {
        method: req.method,
        features: options.features ?? [],
        allowWhenReadOnly: typeof allow === 'function' ? allow(req) : (allow ?? false),
      });
      req.billingDecision = decision;
      if (decision.allowed) next();
      else res.status(decision.status).json(refusalBody(decision));
    })().catch(next);
  };
}

/**
 * The `entitlements.updated` receiver: mount it with a raw body parser on your integration endpoint's
 * path, `app.post('/billing/events', express.raw({ type: 'application/json' }), billingEvents(billing))`.
 */
export function billingEvents(billing: BillingGuard): (req: Req, res: Res) => void {
  return (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : typeof req.body === 'string' ? req.body : '';
    const outcome = billing.handleEvent(raw, req.headers['x-billing-signature']);
    res.status(outcome.status).json(outcome.body);
  };
}
