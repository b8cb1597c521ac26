import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './generated/billing-api.js';

/** The verdict `GET /v1/accounts/{id}/entitlements` answers (types generated from the service's OpenAPI). */
export type Verdict = components['schemas']['EntitlementVerdictDto'];

/** A bearer token the billing service accepts for the accounts you check (e.g. a `support` service token). */
export type TokenSource = string | (() => string | Promise<string>);

export interface BillingApiOptions {
  /** The billing service, e.g. `https://billing.example.com`. */
  baseUrl: string;
  token: TokenSource;
  /** Your own fetch (a proxy, a test); the global one by default. */
  fetch?: (input: Request) => Promise<Response>;
}

/** The typed client of the billing service's API (openapi-fetch over the generated `paths`). */
export function createBillingApi(options: BillingApiOptions): Client<paths> {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** What one verdict request came to: the verdict, or why there is none. */
export type FetchedVerdict =
  | { ok: true; verdict: Verdict }
  | { ok: false; reason: 'service_unreachable' | 'service_refused'; detail: string };

/** Asks the service for the account's verdict within `timeoutMs`; never throws. */
export async function fetchVerdict(
  api: Client<paths>,
  token: TokenSource,
  accountId: string,
  timeoutMs: number,
): Promise<FetchedVerdict> {
  try {
    const bearer = typeof token === 'string' ? token : await token();
    const { data, response } = await api.GET('/v1/accounts/{id}/entitlements', {
      params: { path: { id: accountId } },
      headers: { authorization: `Bearer ${bearer}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 200 && data) return { ok: true, verdict: data };
    // 5xx: the service is in trouble (unreachable for our purpose); 4xx: it refused (token, account id).
    return {
      ok: false,
      reason: response.status >= 500 ? 'service_unreachable' : 'service_refused',
      detail: `HTTP ${response.status}`,
    };
  } catch (e) {
    return {
      ok: false,
      reason: 'service_unreachable',
      detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
    };
  }
}
