/**
 * Per-emulator knobs of the billing side: the dunning policy (env, `startEmulator({ settings })` or
 * the admin endpoint) and the base URL for hosted pages. Several emulators may run in one process
 * (tests), so everything is looked up through the account's owning state.
 */
import type { EmulatorContext } from '../../core/context.js';
import type { Account } from '../../core/state.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, parseRetryPolicy } from '../dunning.js';

interface Runtime {
  ctx: EmulatorContext;
  policy: RetryPolicy;
  /** Per-account overrides set through the admin endpoint. */
  accountPolicies: Map<string, RetryPolicy>;
}

const runtimes: Runtime[] = [];

/** Reads the policy from `settings` (`retryDays: "0,3,5"`, `dunningFinalStatus`) then the environment. */
export function policyFromSettings(
  settings: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): RetryPolicy {
  const days = settings.retryDays ?? env.STRIPE_EMULATOR_RETRY_DAYS;
  const final = settings.dunningFinalStatus ?? env.STRIPE_EMULATOR_DUNNING_FINAL_STATUS;
  const dayString = Array.isArray(days)
    ? days.map(String).join(',')
    : typeof days === 'string'
      ? days
      : undefined;
  return parseRetryPolicy(dayString, typeof final === 'string' ? final : undefined, DEFAULT_RETRY_POLICY);
}

export function installRuntime(ctx: EmulatorContext): Runtime {
  const existing = runtimes.find((r) => r.ctx.state === ctx.state);
  if (existing) return existing;
  const runtime: Runtime = { ctx, policy: policyFromSettings(ctx.settings), accountPolicies: new Map() };
  runtimes.push(runtime);
  ctx.onClose(() => {
    const i = runtimes.indexOf(runtime);
    if (i >= 0) runtimes.splice(i, 1);
  });
  return runtime;
}

function runtimeOf(account: Account): Runtime | undefined {
  return runtimes.find((r) => r.ctx.state.shared === account.shared);
}

export function retryPolicyFor(account: Account): RetryPolicy {
  const runtime = runtimeOf(account);
  if (!runtime) return DEFAULT_RETRY_POLICY;
  return runtime.accountPolicies.get(account.secretKey) ?? runtime.policy;
}

export function setRetryPolicy(ctx: EmulatorContext, policy: RetryPolicy, secretKey?: string): void {
  const runtime = installRuntime(ctx);
  if (secretKey) runtime.accountPolicies.set(secretKey, policy);
  else runtime.policy = policy;
}

export function getRetryPolicy(ctx: EmulatorContext, secretKey?: string): RetryPolicy {
  const runtime = installRuntime(ctx);
  return (secretKey ? runtime.accountPolicies.get(secretKey) : undefined) ?? runtime.policy;
}

/** `http://host:port` of the emulator that owns the account (for hosted URLs). */
export function baseUrlFor(account: Account): string {
  return account.shared.baseUrl || runtimeOf(account)?.ctx.baseUrl() || 'http://127.0.0.1:12111';
}
