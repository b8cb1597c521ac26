// Shared by the benches that drive subscriptions through signed webhooks (bench:subscriptions,
// bench:entitlements): the bench account, a kept-alive HTTP call, and the `customer.subscription.updated`
// event of a Pro monthly subscription (API 2026-10-28).
import { randomUUID } from 'node:crypto';
import { type Agent, request as httpRequest } from 'node:http';

/** Past it, an answer is an error, not a hang. */
const REQUEST_TIMEOUT_MS = 30_000;
const DAY = 86_400;

export interface BenchAccount {
  id: string;
  customer: string;
  subscription: string;
  item: string;
  /** The owner's `Authorization` header. */
  authorization: string;
  /** Whether the last event sent for it asked for cancellation at period end. */
  cancel: boolean;
  /** Add-on seats of the last event sent for it: one more with every event, so that each shows apart. */
  seats: number;
  /** The `created` of the last event sent for it (unix seconds): each next one is later. */
  lastCreated: number;
}

/** One request over a kept-alive connection of `agent` (`node:http`: `fetch` costs far more CPU per request). */
export function call(
  agent: Agent,
  base: URL,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path,
        method,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    // Bounded: an answer that does not come within REQUEST_TIMEOUT_MS is an error, not a hang.
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A `customer.subscription.updated` event of the account's Pro monthly subscription (API 2026-10-28). */
export function subscriptionEvent(account: BenchAccount, created: number, period: number): string {
  const { cancel, seats } = account;
  const periodEnd = period + 30 * DAY;
  const price = (kind: 'base' | 'seat', amount: number) => ({
    id: `price_bench_pro_month_${kind}`,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: period,
    currency: 'usd',
    livemode: false,
    lookup_key: `pro_month_${kind}`,
    metadata: {},
    nickname: null,
    product: 'prod_bench_pro',
    recurring: { interval: 'month', interval_count: 1, meter: null, usage_type: 'licensed' },
    tax_behavior: 'unspecified',
    type: 'recurring',
    unit_amount: amount,
    unit_amount_decimal: String(amount),
  });
  const item = (kind: 'base' | 'seat', amount: number, quantity: number) => ({
    id: `${account.item}${kind}`,
    object: 'subscription_item',
    created: period,
    current_period_start: period,
    current_period_end: periodEnd,
    metadata: {},
    price: price(kind, amount),
    quantity,
    subscription: account.subscription,
  });
  return JSON.stringify({
    id: `evt_bench_${randomUUID().replace(/-/g, '')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created,
    livemode: false,
    type: 'customer.subscription.updated',
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id: account.subscription,
        object: 'subscription',
        billing_cycle_anchor: period,
        cancel_at: cancel ? periodEnd : null,
        cancel_at_period_end: cancel,
        canceled_at: cancel ? created : null,
        cancellation_details: {
          comment: null,
          feedback: null,
          reason: cancel ? 'cancellation_requested' : null,
        },
        collection_method: 'charge_automatically',
        created: period,
        currency: 'usd',
        customer: account.customer,
        default_payment_method: null,
        ended_at: null,
        items: {
          object: 'list',
          data: [item('base', 2900, 1), ...(seats > 0 ? [item('seat', 600, seats)] : [])],
          has_more: false,
          url: `/v1/subscription_items?subscription=${account.subscription}`,
        },
        latest_invoice: null,
        livemode: false,
        metadata: {},
        start_date: period,
        status: 'active',
        trial_end: null,
        trial_start: null,
      },
      previous_attributes: { cancel_at_period_end: !cancel },
    },
  });
}
