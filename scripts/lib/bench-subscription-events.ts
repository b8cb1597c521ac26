// Shared by the benches that drive subscriptions through signed webhooks (bench:subscriptions,
// bench:entitlements): the service with its accounts and subscriptions, a kept-alive HTTP call, and the
// `customer.subscription.updated` event of a Pro monthly subscription (API 2026-10-28).
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import pg from 'pg';
import { startEmulator } from '../../apps/stripe-emulator/src/server.js';
import {
  freePort,
  recreateDatabase,
  spawnService,
  stop,
  stripeSignature,
  waitUntil,
  type RunningService,
} from './bench-kit.js';

/** Past it, an answer is an error, not a hang. */
const REQUEST_TIMEOUT_MS = 30_000;
/** How long the inbox may take to drain. */
const DRAIN_DEADLINE_MS = 120_000;
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

export interface SubscriptionsBenchOptions {
  /** The bench's own database (dropped and recreated) and Redis. */
  databaseUrl: string;
  redisUrl: string;
  /** How many accounts, each with a Pro monthly subscription from a first signed event. */
  accounts: number;
  /** Names the accounts and the queue prefix (`subs`, `ent`). */
  name: string;
  jwtSecret: string;
  webhookSecret: string;
}

/** The running service with its accounts, for the benches that drive subscriptions by webhook. */
export interface SubscriptionsBench {
  base: URL;
  api: RunningService;
  worker: RunningService;
  db: pg.Pool;
  accounts: BenchAccount[];
  /** An admin's `Authorization` header. */
  admin: string;
  /** The start of the subscriptions' current period (unix seconds), as in every event `send` builds. */
  period: number;
  /** A kept-alive agent, destroyed at close. */
  agent: (maxSockets: number) => Agent;
  /**
   * Sends the account's next event: the first one active with no add-on seats, every later one
   * toggling the cancellation at period end and with one add-on seat more (never the same state and
   * seats twice). Resolves with its id and when it was sent.
   */
  send: (
    account: BenchAccount,
    first?: boolean,
  ) => Promise<{ id: string; sentAt: number; t0: number; ok: boolean; status: number }>;
  /** Waits until none of the inbox is left to process; true when that happened within 120 s. */
  drain: () => Promise<boolean>;
  close: () => Promise<void>;
}

/**
 * Starts the compiled service as two processes (APP_ROLE=api on a free port, APP_ROLE=worker) on a fresh
 * database, with the Stripe emulator in this process (no webhook endpoint: the bench sends the events
 * itself; the emulator only keeps any Stripe call local), creates the accounts through the admin API,
 * links each to a Stripe customer (in SQL: the bench owns its database), and sends each a first
 * `customer.subscription.updated` (active Pro monthly); resolves once the inbox has drained.
 */
export async function startSubscriptionsBench(
  options: SubscriptionsBenchOptions,
): Promise<SubscriptionsBench> {
  await recreateDatabase(options.databaseUrl);
  const apiPort = await freePort();
  const base = new URL(`http://127.0.0.1:${apiPort}`);
  const emulator = await startEmulator({ port: 0 });
  const env = {
    NODE_ENV: 'test',
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    DB_MIGRATE: 'true',
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: `bench-${options.name}-${randomUUID().slice(0, 8)}`,
    JWT_SECRET: options.jwtSecret,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_IP_PER_MINUTE: '100000000',
    RATE_LIMIT_ACCOUNT_PER_MINUTE: '100000000',
    STRIPE_API_BASE: emulator.url,
    STRIPE_SECRET_KEY: `sk_test_bench${randomUUID().replace(/-/g, '')}`,
    STRIPE_WEBHOOK_SECRETS: options.webhookSecret,
    WEBHOOK_SWEEP_AFTER_MS: '3600000',
  };
  const db = new pg.Pool({ connectionString: options.databaseUrl, max: 4 });
  const agents: Agent[] = [];
  const agent = (maxSockets: number): Agent => {
    const made = new Agent({ keepAlive: true, maxSockets });
    agents.push(made);
    return made;
  };
  let api: RunningService | undefined;
  let worker: RunningService | undefined;
  const close = async (): Promise<void> => {
    for (const a of agents) a.destroy();
    await db.end();
    await Promise.all([api && stop(api.child), worker && stop(worker.child)]);
    await emulator.close();
  };
  try {
    api = await spawnService('api', env); // migrates the bench database
    worker = await spawnService('worker', { ...env, PORT: '0' });
    const token = (claims: Record<string, string>, sub: string) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setExpirationTime('2h')
        .sign(new TextEncoder().encode(options.jwtSecret));
    const admin = `Bearer ${await token({ role: 'admin' }, 'bench-admin')}`;
    const setupAgent = agent(10);
    const run = randomUUID().slice(0, 8);
    // The stream's prices in the catalogue, as `npm run catalog:sync` records them in a real deployment (not
    // current: the catalogue's own prices keep their lookup keys).
    await db.query(
      `INSERT INTO catalog_prices (stripe_price_id, lookup_key, plan_id, billing_interval, kind, stripe_product_id,
         unit_amount, currency, is_current, created_at, updated_at)
       VALUES ('price_bench_pro_month_base', 'pro_month_base', 'pro', 'month', 'base', 'prod_bench_pro', 2900, 'usd',
               false, now(), now()),
              ('price_bench_pro_month_seat', 'pro_month_seat', 'pro', 'month', 'seat', 'prod_bench_pro', 600, 'usd',
               false, now(), now())
       ON CONFLICT (stripe_price_id) DO NOTHING`,
    );
    const makeAccount = async (n: number): Promise<BenchAccount> => {
      const created = await call(
        setupAgent,
        base,
        'POST',
        '/v1/admin/accounts',
        { authorization: admin, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        JSON.stringify({
          name: `Bench ${options.name} ${n}`,
          billingEmail: `b${n}@bench.test`,
          owner: { userId: `bench-owner-${n}`, email: `o${n}@bench.test` },
        }),
      );
      if (created.status !== 201) throw new Error(`account ${n}: ${created.status} ${created.body}`);
      const id = (JSON.parse(created.body) as { id: string }).id;
      const customer = `cus_bench${run}${n}`;
      await db.query('UPDATE accounts SET stripe_customer_id = $2 WHERE id = $1', [id, customer]);
      return {
        id,
        customer,
        subscription: `sub_bench${run}${n}`,
        item: `si_bench${run}${n}`,
        authorization: `Bearer ${await token({ role: 'owner', account_id: id }, `bench-owner-${n}`)}`,
        cancel: false,
        seats: 0,
        lastCreated: 0,
      };
    };
    const accounts: BenchAccount[] = [];
    for (let n = 0; n < options.accounts; n += 10) {
      accounts.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(10, options.accounts - n) }, (_, i) => makeAccount(n + i)),
        )),
      );
    }
    const period = Math.floor(Date.now() / 1000) - DAY;
    const hookAgent = agent(100);
    const send: SubscriptionsBench['send'] = async (account, first = false) => {
      const created = Math.max(Math.floor(Date.now() / 1000), account.lastCreated + 1);
      account.lastCreated = created;
      if (!first) {
        account.cancel = !account.cancel;
        account.seats += 1;
      }
      const body = subscriptionEvent(account, created, period);
      const sentAt = Date.now();
      const t0 = performance.now();
      const res = await call(
        hookAgent,
        base,
        'POST',
        '/webhooks/stripe',
        {
          'content-type': 'application/json',
          'stripe-signature': stripeSignature(options.webhookSecret, body),
        },
        body,
      );
      return {
        id: (JSON.parse(body) as { id: string }).id,
        sentAt,
        t0,
        ok: res.status === 200,
        status: res.status,
      };
    };
    const drain = () =>
      waitUntil(
        async () =>
          Number(
            (
              await db.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM webhook_events WHERE status IN ('pending', 'processing', 'failed')`,
              )
            ).rows[0]?.n ?? 0,
          ) === 0,
        DRAIN_DEADLINE_MS,
      );
    // The subscriptions: a first event each, active on Pro monthly.
    const firsts = await Promise.all(accounts.map((account) => send(account, true)));
    if (firsts.some((f) => !f.ok))
      throw new Error(`first events refused: ${firsts.find((f) => !f.ok)?.status}`);
    if (!(await drain())) throw new Error('the first events were not processed in time');
    const outcomes = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_events WHERE id = ANY($1) AND outcome = 'applied'`,
      [firsts.map((f) => f.id)],
    );
    if (outcomes.rows[0]?.n !== accounts.length) {
      throw new Error(`first events not all applied: ${outcomes.rows[0]?.n ?? 0} of ${accounts.length}`);
    }
    return { base, api, worker, db, accounts, admin, period, agent, send, drain, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A read's `state/seats` shows this event's change or a later one's (seats only grow, one per event). */
export function reached(view: string | null, expected: string): boolean {
  if (!view) return false;
  if (view === expected) return true;
  return Number(view.split('/')[1]) > Number(expected.split('/')[1]);
}

export interface OfferOptions {
  /** Events per second (open loop) and for how long. */
  rate: number;
  seconds: number;
  /** 1 event in this many is followed until the read shows it. */
  sample: number;
  pollMs: number;
  /** Past it a followed event counts as not seen. */
  deadlineMs: number;
  /** Past it the polls back off to a quarter of the time elapsed (they load the same api). */
  backOffAfterMs: number;
  /** What the read should show once the account's last event is applied, as `state/seats`. */
  expected: (account: BenchAccount) => string;
  /** What the read shows now, as `state/seats` (null: not answered 200). */
  shown: (account: BenchAccount) => Promise<string | null>;
}

/**
 * Offers `rate` events/s for `seconds`, round robin over the accounts; returns each event's send time and,
 * for 1 in `sample`, the ms until the read showed its change (null: not seen within the deadline).
 */
export async function offerEvents(world: SubscriptionsBench, o: OfferOptions) {
  const sent: { id: string; sentAt: number }[] = [];
  const visible: (number | null)[] = [];
  let refused = 0;
  let polls = 0;
  const pending: Promise<void>[] = [];
  const total = Math.round(o.rate * o.seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const account = world.accounts[i % world.accounts.length] as BenchAccount;
    const sampled = i % o.sample === 0;
    const sending = world.send(account);
    const expected = o.expected(account);
    pending.push(
      sending.then(
        async (s) => {
          if (!s.ok) {
            refused++;
            return;
          }
          sent.push({ id: s.id, sentAt: s.sentAt });
          if (!sampled) return;
          const deadline = s.t0 + o.deadlineMs;
          for (;;) {
            polls++;
            const now = await o.shown(account).catch(() => null);
            if (reached(now, expected)) {
              visible.push(performance.now() - s.t0);
              return;
            }
            if (performance.now() > deadline) {
              visible.push(null);
              return;
            }
            const elapsed = performance.now() - s.t0;
            await new Promise((r) =>
              setTimeout(r, elapsed < o.backOffAfterMs ? o.pollMs : Math.max(o.pollMs, elapsed / 4)),
            );
          }
        },
        () => {
          refused++;
        },
      ),
    );
  }
  const offeredSeconds = (performance.now() - started) / 1000;
  await Promise.all(pending);
  return { sent, visible, refused, total, offeredSeconds, polls };
}
