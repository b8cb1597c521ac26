/**
 * @billing/guard: enforce the billing service's entitlement verdicts in your own product. The core is
 * framework-free; the Nest guard is in `@billing/guard/nest`, the Express and Fastify middleware in
 * `@billing/guard/express` and `@billing/guard/fastify`.
 */
export { BillingGuard, type BillingGuardOptions, type EventOutcome } from './billing-guard.js';
export {
  createBillingApi,
  fetchVerdict,
  type BillingApiOptions,
  type FetchedVerdict,
  type TokenSource,
  type Verdict,
} from './client.js';
export {
  decide,
  refusalBody,
  type Decision,
  type GrantReason,
  type RefusalCode,
  type Requirement,
} from './decide.js';
export type { components, paths } from './generated/billing-api.js';
export { verifyBillingSignature } from './signature.js';
