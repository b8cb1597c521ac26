import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type Sql } from '../database/row-sql.js';

/** The key a request holds while its handler runs: `lockedAt` tells this claim from a later take-over. */
export interface IdempotencyClaim {
  scope: string;
  key: string;
  lockedAt: Date;
}

const storage = new AsyncLocalStorage<IdempotencyClaim>();

/**
 * The current request's claim of its Idempotency-Key (set by the interceptor around the handler), so
 * that a use case whose effects outlive a failed request (a charge) can link what it creates to the key
 * in the statement that creates it (`linkSql`).
 */
export const IdempotencyClaims = {
  run<T>(claim: IdempotencyClaim, fn: () => T): T {
    return storage.run(claim, fn);
  },
  current(): IdempotencyClaim | undefined {
    return storage.getStore();
  },
};

/**
 * A CTE body linking the claimed key to `resourceId`, only while the claim is this request's (not taken
 * over) and not linked yet, and only when `condition` holds: `UPDATE ... RETURNING 1`. The statement
 * writes its resource only with a row from it, so a resource and its key's link commit together or not
 * at all, and a request whose claim was taken over writes nothing.
 */
export function linkKeySql(claim: IdempotencyClaim, resourceId: string, condition: Sql = sql`true`): Sql {
  return sql`UPDATE idempotency_keys SET resource_id = ${resourceId}
    WHERE scope = ${claim.scope} AND key = ${claim.key} AND status = 'in_progress'
      AND locked_at = ${claim.lockedAt} AND resource_id IS NULL AND ${condition}
    RETURNING 1`;
}

/** Whether the claim is still this request's, unlinked (read in the statement's snapshot). */
export function claimHeldSql(claim: IdempotencyClaim): Sql {
  return sql`EXISTS (SELECT 1 FROM idempotency_keys
    WHERE scope = ${claim.scope} AND key = ${claim.key} AND status = 'in_progress'
      AND locked_at = ${claim.lockedAt} AND resource_id IS NULL)`;
}
