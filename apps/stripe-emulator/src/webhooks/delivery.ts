import http from 'node:http';
import https from 'node:https';
import type Stripe from 'stripe';
import type { Chaos } from '../core/chaos.js';
import { newId } from '../core/ids.js';
import type { Account, EmulatorState } from '../core/state.js';
import { signatureHeader } from './signature.js';

export interface DeliveryAttempt {
  /** Unix ms. */
  at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

export interface DeliveryRecord {
  id: string;
  account_id: string;
  event_id: string;
  event_type: string;
  /** `we_...` or null for the endpoint configured by environment. */
  endpoint_id: string | null;
  url: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  /** True for a chaos duplicate of another delivery. */
  duplicate: boolean;
  /** Unix ms of the next attempt while pending. */
  next_attempt_at: number | null;
  history: DeliveryAttempt[];
}

export interface GlobalEndpoint {
  url: string;
  secret: string;
  enabledEvents?: string[];
}

export interface DeliveryOptions {
  /** First retry after this many ms, doubling each time (Stripe uses hours; the emulator seconds). */
  retryBaseMs: number;
  maxAttempts: number;
  timeoutMs: number;
  /** Receive the events of every account (the demo endpoint from `STRIPE_EMULATOR_WEBHOOK_URL`). */
  globalEndpoints: GlobalEndpoint[];
  /** How many delivery records to keep for `GET /_emulator/deliveries`. */
  keep: number;
  /**
   * Connections kept open to one endpoint (host and port); further deliveries wait for one. Stripe does
   * not publish its figure; an unbounded number of new connections per delivery overflowed the
   * receiving server's accept queue under load (issue 5 benchmark), which Stripe does not do.
   */
  maxConnectionsPerEndpoint: number;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  retryBaseMs: 1000,
  maxAttempts: 8,
  timeoutMs: 10_000,
  globalEndpoints: [],
  keep: 10_000,
  maxConnectionsPerEndpoint: 16,
};

/** Idle kept-alive connections are closed before a Node server's default 5 s keep-alive timeout. */
const IDLE_CONNECTION_MS = 4000;

interface Target {
  endpointId: string | null;
  url: string;
  secret: string;
}

/** `enabled_events` matching: `*` matches all; otherwise exact event types. */
export function endpointMatches(enabledEvents: readonly string[], type: string): boolean {
  return enabledEvents.includes('*') || enabledEvents.includes(type);
}

/**
 * Delivers every event to the matching enabled endpoints: signed like Stripe, asynchronously, with
 * retries and exponential backoff on non-2xx or timeouts, plus the chaos switches. Holds timers and
 * sockets only until `close()`.
 */
export class WebhookDelivery {
  readonly options: DeliveryOptions;
  private readonly records = new Map<string, DeliveryRecord>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<http.ClientRequest>();
  private readonly unsubscribe: () => void;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private pendingCount = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly state: EmulatorState,
    private readonly chaos: Chaos,
    options: Partial<DeliveryOptions> = {},
  ) {
    this.options = { ...DEFAULT_DELIVERY_OPTIONS, ...options };
    const pool = {
      keepAlive: true,
      maxSockets: this.options.maxConnectionsPerEndpoint,
      timeout: IDLE_CONNECTION_MS,
    };
    this.agents = { http: new http.Agent(pool), https: new https.Agent(pool) };
    this.unsubscribe = state.onEvent((account, event) => this.enqueue(account, event));
  }

  /** Delivery records, newest first, optionally for one account / event. */
  list(filter: { accountId?: string; eventId?: string; status?: string } = {}): DeliveryRecord[] {
    const out: DeliveryRecord[] = [];
    for (const record of this.records.values()) {
      if (filter.accountId && record.account_id !== filter.accountId) continue;
      if (filter.eventId && record.event_id !== filter.eventId) continue;
      if (filter.status && record.status !== filter.status) continue;
      out.push(record);
    }
    return out.reverse();
  }

  /** Sends an event again to every matching endpoint. Returns the new delivery records. */
  redeliver(account: Account, event: Stripe.Event): DeliveryRecord[] {
    return this.targetsFor(account, event).map((target) => this.schedule(account, event, target, false, 0));
  }

  /** Resolves when no delivery is pending (attempt or retry). */
  idle(): Promise<void> {
    if (this.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.records.clear();
    this.pendingCount = 0;
    this.notifyIdle();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.pendingCount = 0;
    this.notifyIdle();
  }

  private targetsFor(account: Account, event: Stripe.Event): Target[] {
    const targets: Target[] = [];
    for (const endpoint of account.webhook_endpoints.values()) {
      if (endpoint.status !== 'enabled') continue;
      if (!endpointMatches(endpoint.enabled_events, event.type)) continue;
      const secret = account.internal.get(endpoint.id)?.secret;
      if (typeof secret !== 'string') continue;
      targets.push({ endpointId: endpoint.id, url: endpoint.url, secret });
    }
    for (const global of this.options.globalEndpoints) {
      if (global.enabledEvents && !endpointMatches(global.enabledEvents, event.type)) continue;
      targets.push({ endpointId: null, url: global.url, secret: global.secret });
    }
    return targets;
  }

  private enqueue(account: Account, event: Stripe.Event): void {
    if (this.closed) return;
    const targets = this.targetsFor(account, event);
    if (targets.length === 0) return;
    // A lost webhook: the event exists (GET /v1/events lists it) but no endpoint ever hears of it.
    if (this.chaos.webhookDropped()) return;
    (event as { pending_webhooks: number }).pending_webhooks = targets.length;
    const { webhookDelayMs, webhookReorderWindowMs, webhookDuplicateRate } = this.chaos.settings;
    for (const target of targets) {
      const delay = webhookDelayMs + this.chaos.jitter(webhookReorderWindowMs);
      this.schedule(account, event, target, false, delay);
      if (this.chaos.roll(webhookDuplicateRate)) {
        this.schedule(
          account,
          event,
          target,
          true,
          webhookDelayMs + this.chaos.jitter(webhookReorderWindowMs),
        );
      }
    }
  }

  private schedule(
    account: Account,
    event: Stripe.Event,
    target: Target,
    duplicate: boolean,
    delayMs: number,
  ): DeliveryRecord {
    const record: DeliveryRecord = {
      id: newId('dlv'),
      account_id: account.id,
      event_id: event.id,
      event_type: event.type,
      endpoint_id: target.endpointId,
      url: target.url,
      status: 'pending',
      attempts: 0,
      duplicate,
      next_attempt_at: Date.now() + delayMs,
      history: [],
    };
    this.records.set(record.id, record);
    if (this.records.size > this.options.keep) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
    this.pendingCount++;
    // The payload is fixed at enqueue time: retries resend the same bytes, like Stripe.
    const payload = JSON.stringify(event, null, 2);
    this.later(delayMs, () => this.attempt(account, event, record, target, payload));
    return record;
  }

  private later(delayMs: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private attempt(
    account: Account,
    event: Stripe.Event,
    record: DeliveryRecord,
    target: Target,
    payload: string,
  ): void {
    if (this.closed) return;
    record.attempts++;
    record.next_attempt_at = null;
    const started = Date.now();
    const timestamp = Math.floor(started / 1000);
    const signature = signatureHeader(payload, target.secret, timestamp);
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      this.finishAttempt(account, event, record, target, payload, started, null, 'invalid URL');
      return;
    }
    const secure = url.protocol === 'https:';
    const transport = secure ? https : http;
    let settled = false;
    const settle = (status: number | null, error: string | null): void => {
      if (settled) return;
      settled = true;
      this.requests.delete(request);
      this.finishAttempt(account, event, record, target, payload, started, status, error);
    };
    const request = transport.request(
      url,
      {
        method: 'POST',
        agent: secure ? this.agents.https : this.agents.http,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(payload),
          'stripe-signature': signature,
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'cache-control': 'no-cache',
          accept: '*/*; q=0.5, application/xml',
        },
        timeout: this.options.timeoutMs,
      },
      (response) => {
        response.resume();
        response.on('end', () => settle(response.statusCode ?? null, null));
        response.on('error', (err) => settle(response.statusCode ?? null, err.message));
      },
    );
    request.on('timeout', () => {
      request.destroy(new Error('timeout'));
    });
    request.on('error', (err) => settle(null, err.message));
    this.requests.add(request);
    request.end(payload);
  }

  private finishAttempt(
    account: Account,
    event: Stripe.Event,
    record: DeliveryRecord,
    target: Target,
    payload: string,
    started: number,
    status: number | null,
    error: string | null,
  ): void {
    if (this.closed) return;
    record.history.push({ at: started, status, error, duration_ms: Date.now() - started });
    const ok = status !== null && status >= 200 && status < 300;
    if (ok) {
      record.status = 'succeeded';
      const stored = account.events.get(event.id) as { pending_webhooks: number } | undefined;
      if (stored && stored.pending_webhooks > 0 && !record.duplicate) stored.pending_webhooks--;
      this.done();
      return;
    }
    if (record.attempts >= this.options.maxAttempts) {
      record.status = 'failed';
      this.done();
      return;
    }
    const delay = this.options.retryBaseMs * 2 ** (record.attempts - 1);
    record.next_attempt_at = Date.now() + delay;
    this.later(delay, () => this.attempt(account, event, record, target, payload));
  }

  private done(): void {
    this.pendingCount = Math.max(0, this.pendingCount - 1);
    if (this.pendingCount === 0) this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
