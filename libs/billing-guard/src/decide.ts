import type { Verdict } from './client.js';

/** Methods that change something: refused for a read-only (suspended) account. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What a request needs of the account. */
export interface Requirement {
  /** The HTTP method of the request (`GET`, `POST`…). */
  method: string;
  /** Catalogue feature keys the route needs (all of them), e.g. `sso`. */
  features?: readonly string[];
  /** Let this mutating request through for a read-only account (an export, a download as POST). */
  allowWhenReadOnly?: boolean;
}

/** Why a request was let through. */
export type GrantReason =
  /** The verdict allows it. */
  | 'entitled'
  /** No account to check (the request names none): nothing to enforce. */
  | 'no_account'
  /** The billing service could not be asked in time or failed: access is granted (fail-open). */
  | 'service_unreachable'
  /** The billing service refused the question (a wrong token, an unknown account): fail-open too. */
  | 'service_refused';

export type RefusalCode = 'account_suspended' | 'feature_not_entitled';

export type Decision =
  | { allowed: true; reason: GrantReason; verdict: Verdict | null }
  | { allowed: false; status: 403; code: RefusalCode; message: string; verdict: Verdict };

/** The error body a refusal is answered with: the billing service's own error shape. */
export function refusalBody(decision: Extract<Decision, { allowed: false }>): {
  error: { code: RefusalCode; message: string; details: Record<string, unknown> };
} {
  return {
    error: {
      code: decision.code,
      message: decision.message,
      details: { accessMode: decision.verdict.accessMode, tier: decision.verdict.tier },
    },
  };
}

/**
 * The rule, pure: a read-only account may read (and do what is marked allowed when read-only) but not
 * change anything; a feature the verdict does not list is refused. A fail-open verdict of the service
 * (`basis: fail_open`) is full access with every feature, so it passes like any other.
 */
export function decide(verdict: Verdict, requirement: Requirement): Decision {
  if (
    verdict.accessMode === 'read_only' &&
    !requirement.allowWhenReadOnly &&
    MUTATING.has(requirement.method.toUpperCase())
  ) {
    return {
      allowed: false,
      status: 403,
      code: 'account_suspended',
      message:
        'This account is suspended for an unpaid invoice: it is read-only until the invoice is paid. Reads and exports still work.',
      verdict,
    };
  }
  for (const feature of requirement.features ?? []) {
    if (!verdict.features.includes(feature)) {
      return {
        allowed: false,
        status: 403,
        code: 'feature_not_entitled',
        message: `The ${verdict.tier} plan does not include "${feature}".`,
        verdict,
      };
    }
  }
  return { allowed: true, reason: 'entitled', verdict };
}
