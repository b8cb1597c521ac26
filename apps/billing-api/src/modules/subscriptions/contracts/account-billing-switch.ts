/**
 * The query contract through which seat changes ask whether billing applies to an account (R-PLAN-5:
 * an account that is not billed has full access and no billing calls). Subscriptions declares it; the
 * entitlements module, which decides who is billed, provides it under {@link ACCOUNT_BILLING_SWITCH}
 * (entitlements depends on subscriptions, so subscriptions cannot import entitlements). Subscriptions
 * resolves it by this token from the whole application at start-up, and refuses to start without it.
 */
export interface AccountBillingSwitch {
  /** Whether the account is billed: false when billing is off for it, null when no such account. */
  execute(accountId: string): Promise<boolean | null>;
}

/** The injection token of {@link AccountBillingSwitch}. */
export const ACCOUNT_BILLING_SWITCH = 'billing:account-billing-switch';
