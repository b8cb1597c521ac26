import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { InboxQueue } from '../../apps/billing-api/src/modules/webhooks/processing/inbox-queue.js';
import { http, type TestApp } from '../support/test-app.js';

/** Helpers shared by the webhook suites: Stripe-style signing, event fixtures, polling the inbox. */

export const SECRET = 'whsec_test_webhooks_primary';

/** A Stripe-Signature header as Stripe computes it: HMAC-SHA256 of `${t}.${body}` with the secret. */
export function sign(body: string, secret = SECRET, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

export function eventId(): string {
  return `evt_${randomBytes(12).toString('hex')}`;
}

export interface EventFixture {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  livemode: boolean;
  type: string;
  pending_webhooks: number;
  request: { id: null; idempotency_key: null };
  data: { object: Record<string, unknown> };
}

export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  options: { id?: string; created?: number } = {},
): EventFixture {
  return {
    id: options.id ?? eventId(),
    object: 'event',
    api_version: '2026-10-28.endive',
    created: options.created ?? Math.floor(Date.now() / 1000),
    livemode: false,
    type,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  };
}

export function customer(
  id: string,
  fields: { accountId?: string; balance?: number; email?: string | null; pm?: string | null } = {},
): Record<string, unknown> {
  return {
    id,
    object: 'customer',
    balance: fields.balance ?? 0,
    created: Math.floor(Date.now() / 1000),
    delinquent: false,
    email: fields.email ?? null,
    invoice_settings: { default_payment_method: fields.pm ?? null, custom_fields: null, footer: null },
    livemode: false,
    metadata: fields.accountId ? { account_id: fields.accountId } : {},
  };
}

/** POSTs an event to the app's webhook endpoint, signed (or with the given header). */
export async function deliver(
  url: string,
  event: EventFixture | string,
  options: { signature?: string; secret?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  const response = await fetch(`${url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': options.signature ?? sign(body, options.secret),
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
}

/** Polls until `probe` returns a truthy value (the awaited event is a database change). */
export async function until<T>(
  probe: () => Promise<T | null | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

export interface InboxRow {
  id: string;
  type: string;
  status: string;
  attempts: number;
  outcome: string | null;
  last_error: string | null;
}

export async function inboxRow(db: DataSource, id: string): Promise<InboxRow | undefined> {
  const found = await db.query<InboxRow[]>(
    `SELECT id, type, status, attempts, outcome, last_error FROM webhook_events WHERE id = $1`,
    [id],
  );
  return found[0];
}

export function statusIs(db: DataSource, id: string, statuses: string[]): () => Promise<InboxRow | null> {
  return async () => {
    const row = await inboxRow(db, id);
    return row && statuses.includes(row.status) ? row : null;
  };
}

/** Creates an account through the admin API; returns its id. */
export async function createAccount(url: string, adminToken: string): Promise<string> {
  const response = await http<{ id: string }>(url, 'POST', '/v1/admin/accounts', {
    token: adminToken,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      name: `Webhook account ${randomUUID().slice(0, 8)}`,
      billingEmail: 'billing@example.test',
      owner: { userId: `owner-${randomUUID()}`, email: 'owner@example.test' },
    },
  });
  if (response.status !== 201) throw new Error(`account creation answered ${response.status}`);
  return response.body.id;
}

export interface AccountMirror {
  stripe_customer_id: string | null;
  stripe_balance: string;
  stripe_default_payment_method_id: string | null;
  stripe_email: string | null;
  stripe_delinquent: boolean;
  stripe_customer_deleted: boolean;
}

export async function accountMirror(db: DataSource, accountId: string): Promise<AccountMirror | undefined> {
  const found = await db.query<AccountMirror[]>(
    `SELECT stripe_customer_id, stripe_balance::text AS stripe_balance, stripe_default_payment_method_id,
            stripe_email, stripe_delinquent, stripe_customer_deleted
       FROM accounts WHERE id = $1`,
    [accountId],
  );
  return found[0];
}

export async function auditCount(db: DataSource, action: string, entityId: string): Promise<number> {
  const found = await db.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM audit_log WHERE action = $1 AND entity_id = $2`,
    [action, entityId],
  );
  return found[0]?.n ?? 0;
}

/** The value of one sample of the Prometheus text, or 0 when absent. */
export async function metricValue(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `) || l === name);
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export { randomUUID };

/** Stores the events as pending inbox rows of one intake group (`jobId`), as the intake would. */
export async function storeAsOneGroup(db: DataSource, events: EventFixture[], jobId: string): Promise<void> {
  for (const event of events) {
    await db.query(
      `INSERT INTO webhook_events (id, type, api_version, livemode, event_created, received_at, payload, status,
         attempts, updated_at, job_id)
       VALUES ($1, $2, NULL, false, to_timestamp($3), now(), $4, 'pending', 0, now(), $5)`,
      [event.id, event.type, event.created, JSON.stringify(event), jobId],
    );
  }
}

/** Stores the events as one intake group and queues their batch job: they are applied in one batch. */
export async function queueAsOneBatch(t: Pick<TestApp, 'app' | 'db'>, events: EventFixture[]): Promise<void> {
  const jobId = `events:${randomUUID()}`;
  await storeAsOneGroup(t.db, events, jobId);
  await t.app.get(InboxQueue, { strict: false }).enqueueBatch(
    events.map((e) => e.id),
    events.map(() => 'batch-test'),
    jobId,
  );
}
