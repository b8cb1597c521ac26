import type { Client } from 'openapi-fetch';
import { createBillingApi, fetchVerdict, type TokenSource, type Verdict } from './client.js';
import { decide, type Decision, type GrantReason, type Requirement } from './decide.js';
import type { paths } from './generated/billing-api.js';
import { verifyBillingSignature } from './signature.js';

export interface BillingGuardOptions {
  /** The billing service, e.g. `https://billing.example.com`. */
  baseUrl: string;
  /** A bearer token the service accepts for the accounts you check (a `support` service token). */
  token: TokenSource;
  /**
   * The secret of your integration endpoint (`POST /v1/admin/integration-endpoints` answers it once):
   * `handleEvent` verifies `entitlements.updated` with it. Without it every event is refused.
   */
  webhookSecret?: string;
  /** How long a verdict is used without asking again (default 10 s): the events invalidate sooner. */
  ttlMs?: number;
  /** How long the service may take to answer before access is granted (default 1 s). */
  timeoutMs?: number;
  /** How long a fail-open grant is kept before the service is asked again (default 2 s). */
  failOpenTtlMs?: number;
  /** Told of every fail-open grant (log it, count it). */
  onFailOpen?: (accountId: string, reason: GrantReason, detail: string) => void;
  /** Verdicts kept at most (default 10,000); the oldest stored is dropped first. */
  maxEntries?: number;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
  /** Your own fetch (a proxy, a test). */
  fetch?: (input: Request) => Promise<Response>;
}

interface Entry {
  expiresAt: number;
  /** The verdict, or null for a fail-open grant (with its reason). */
  verdict: Verdict | null;
  reason: GrantReason;
}

/** What `handleEvent` did with a delivery: the status to answer, and the account it invalidated. */
export interface EventOutcome {
  status: 200 | 400;
  body: { received: boolean; invalidated?: string; error?: string };
}

/**
 * The integrator's side of the entitlement verdict: asks the billing service (typed client), keeps each
 * verdict in a local cache for a short TTL, drops it at once when the signed `entitlements.updated`
 * event for its account arrives, and grants access when the service cannot answer (fail-open, R-CORE-5).
 * One instance per process; `check` is what the Nest guard and the Express/Fastify middleware call.
 */
export class BillingGuard {
  private readonly api: Client<paths>;
  private readonly cache = new Map<string, Entry>();
  /** Requests in flight, one per account: a burst of checks asks the service once. */
  private readonly inFlight = new Map<string, Promise<Entry>>();
  /** Bumped by each invalidation: an answer that started before it is not stored. */
  private readonly generation = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly failOpenTtlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: BillingGuardOptions) {
    this.api = createBillingApi(options);
    this.ttlMs = options.ttlMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.failOpenTtlMs = options.failOpenTtlMs ?? 2_000;
    this.now = options.now ?? Date.now;
  }

  /** The decision for a request of the account; never throws, never waits longer than the timeout. */
  async check(accountId: string | null | undefined, requirement: Requirement): Promise<Decision> {
    if (!accountId) return { allowed: true, reason: 'no_account', verdict: null };
    const cached = this.cache.get(accountId);
    const entry = cached && cached.expiresAt > this.now() ? cached : await this.load(accountId);
    return entry.verdict
      ? decide(entry.verdict, requirement)
      : { allowed: true, reason: entry.reason, verdict: null };
  }

  /** The account's verdict (cached), or null when the service could not give one (access is granted). */
  async verdict(accountId: string): Promise<Verdict | null> {
    const cached = this.cache.get(accountId);
    return (cached && cached.expiresAt > this.now() ? cached : await this.load(accountId)).verdict;
  }

  /** Forgets the account's verdict: the next check asks the service. */
  invalidate(accountId: string): void {
    this.cache.delete(accountId);
    this.inFlight.delete(accountId);
    this.generation.set(accountId, (this.generation.get(accountId) ?? 0) + 1);
  }

  /**
   * Handles one delivery of an integration event (mount it on the URL of your integration endpoint):
   * verifies `X-Billing-Signature` over the raw body with `webhookSecret` and, for `entitlements.updated`,
   * invalidates the account's verdict. Answer the returned status and body: 400 makes the service retry
   * nothing you should accept; any other event type is acknowledged and ignored.
   */
  handleEvent(rawBody: string | Buffer, signatureHeader: string | string[] | undefined): EventOutcome {
    const header = Array.isArray(signatureHeader) ? signatureHeader[0] : signatureHeader;
    const secret = this.options.webhookSecret;
    if (!secret || !verifyBillingSignature(secret, rawBody, header, Math.floor(this.now() / 1000))) {
      return { status: 400, body: { received: false, error: 'invalid_signature' } };
    }
    let event: { type?: unknown; accountId?: unknown };
    try {
      event = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8')) as typeof event;
    } catch {
      return { status: 400, body: { received: false, error: 'invalid_json' } };
    }
    if (event.type === 'entitlements.updated' && typeof event.accountId === 'string') {
      this.invalidate(event.accountId);
      return { status: 200, body: { received: true, invalidated: event.accountId } };
    }
    return { status: 200, body: { received: true } };
  }

  private store(accountId: string, entry: Entry): void {
    this.cache.delete(accountId);
    if (this.cache.size >= (this.options.maxEntries ?? 10_000)) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(accountId, entry);
  }

  private load(accountId: string): Promise<Entry> {
    const pending = this.inFlight.get(accountId);
    if (pending) return pending;
    const generation = this.generation.get(accountId) ?? 0;
    const request = fetchVerdict(this.api, this.options.token, accountId, this.timeoutMs).then((got) => {
      const entry: Entry = got.ok
        ? { verdict: got.verdict, reason: 'entitled', expiresAt: this.now() + this.ttlMs }
        : { verdict: null, reason: got.reason, expiresAt: this.now() + this.failOpenTtlMs };
      if (!got.ok) this.options.onFailOpen?.(accountId, got.reason, got.detail);
      // Invalidated while this was in flight: answer it, but do not keep it.
      if ((this.generation.get(accountId) ?? 0) === generation) this.store(accountId, entry);
      if (this.inFlight.get(accountId) === request) this.inFlight.delete(accountId);
      return entry;
    });
    this.inFlight.set(accountId, request);
    return request;
  }
}
