import type { Type } from '@nestjs/common';

/** An outcome as the route answers it: the status and the JSON body it returns. */
export interface ResolvedOutcome {
  status: number;
  body: unknown;
}

/**
 * Tells, from the resource an idempotent request linked to its key (`linkKeySql`), the outcome of that
 * request when its answer was lost (the request failed after the resource was written, or its process
 * died): the answer the route gives for the resource as it is now, or null while the outcome is not known
 * yet (e.g. a payment whose Stripe outcome is still unknown). May throw an `ApiError` that is an executed
 * outcome (a decline). Declared on the route with `@Idempotent({ outcome })`; a provider of its module.
 */
export interface IdempotentOutcome {
  resolve(resourceId: string): Promise<ResolvedOutcome | null>;
}

export type IdempotentOutcomeType = Type<IdempotentOutcome>;
