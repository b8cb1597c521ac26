import { ApiError } from '../http/api-error.js';

export const ROLES = ['owner', 'member', 'finance', 'support', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Roles of the operator's own staff: they may look at any account (SPEC section 0). */
export const INTERNAL_ROLES: readonly Role[] = ['finance', 'support', 'admin'];

/** The authenticated caller, from the JWT claims `sub`, `account_id` and `role` (R-API-2). */
export interface Principal {
  userId: string;
  accountId: string | null;
  role: Role;
}

export function isInternal(principal: Principal): boolean {
  return INTERNAL_ROLES.includes(principal.role);
}

/**
 * Scopes a request to its account (R-API-2): owners and members see only their own account; another
 * account's resource is reported as missing (404), never as forbidden, so ids cannot be probed.
 */
export function assertAccountAccess(principal: Principal, accountId: string): void {
  if (isInternal(principal)) return;
  if (principal.accountId !== accountId) throw new ApiError('not_found', 'The resource was not found.');
}

/** The account of an owner's or member's token; 404 for a token that names none. */
export function ownAccountOf(principal: Principal): string {
  if (!principal.accountId) throw new ApiError('not_found', 'The resource was not found.');
  return principal.accountId;
}

/**
 * The account a request is about: internal roles name it (`accountId`, 400 without it); owners and
 * members get their own, and naming another is a 404.
 */
export function accountInScope(principal: Principal, requested: string | undefined): string {
  if (isInternal(principal)) {
    if (!requested) {
      throw new ApiError('validation_failed', 'accountId is required for internal roles', {
        param: 'accountId',
      });
    }
    return requested;
  }
  const own = ownAccountOf(principal);
  if (requested && requested !== own) throw new ApiError('not_found', 'The resource was not found.');
  return own;
}
