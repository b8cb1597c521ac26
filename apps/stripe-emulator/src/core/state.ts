import type Stripe from 'stripe';
import { newId } from './ids.js';

/** The stored object of each resource type, in the shape the pinned API version returns. */
export interface ResourceTypes {
  customers: Stripe.Customer;
  customer_balance_transactions: Stripe.CustomerBalanceTransaction;
  balance_transactions: Stripe.BalanceTransaction;
  payment_methods: Stripe.PaymentMethod;
  setup_intents: Stripe.SetupIntent;
  payment_intents: Stripe.PaymentIntent;
  charges: Stripe.Charge;
  refunds: Stripe.Refund;
  products: Stripe.Product;
  prices: Stripe.Price;
  subscriptions: Stripe.Subscription;
  subscription_items: Stripe.SubscriptionItem;
  invoices: Stripe.Invoice;
  invoiceitems: Stripe.InvoiceItem;
  checkout_sessions: Stripe.Checkout.Session;
  billing_portal_sessions: Stripe.BillingPortal.Session;
  events: Stripe.Event;
  webhook_endpoints: Stripe.WebhookEndpoint;
  test_clocks: Stripe.TestHelpers.TestClock;
  tokens: Stripe.Token;
}

export type ResourceType = keyof ResourceTypes;

export const RESOURCE_TYPES: readonly ResourceType[] = [
  'customers',
  'customer_balance_transactions',
  'balance_transactions',
  'payment_methods',
  'setup_intents',
  'payment_intents',
  'charges',
  'refunds',
  'products',
  'prices',
  'subscriptions',
  'subscription_items',
  'invoices',
  'invoiceitems',
  'checkout_sessions',
  'billing_portal_sessions',
  'events',
  'webhook_endpoints',
  'test_clocks',
  'tokens',
];

/** A stored idempotent result (see http/idempotency.ts). */
export interface IdempotencyRecord {
  fingerprint: string;
  /** Unix ms when the key was first seen. */
  createdAtMs: number;
  inFlight: boolean;
  status: number;
  body: string;
  requestId: string;
}

type Collections = { [K in ResourceType]: Map<string, ResourceTypes[K]> };

/**
 * Per-emulator facts every account can reach: the base URL (for hosted pages and `next_action`
 * links), module settings and a timer scheduler whose timers are cleared on `close()` / reset.
 */
export class EmulatorShared {
  baseUrl = '';
  settings: Record<string, unknown> = {};
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `fn` after `ms` (unref'd; cleared on close and reset). */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  cancelTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/** Called for every event an account emits (webhook delivery listens here). */
export type EventListener = (account: Account, event: Stripe.Event) => void;

/**
 * One Stripe account, scoped by the secret key the SDK sends. Every resource lives in a typed Map in
 * insertion order (lists sort by `created`, then by insertion). `internal` holds emulator-only data
 * about an object (e.g. which test card a payment method came from) that must never be rendered.
 */
export class Account {
  readonly id: string;
  readonly secretKey: string;
  readonly customers = new Map<string, Stripe.Customer>();
  readonly customer_balance_transactions = new Map<string, Stripe.CustomerBalanceTransaction>();
  readonly balance_transactions = new Map<string, Stripe.BalanceTransaction>();
  readonly payment_methods = new Map<string, Stripe.PaymentMethod>();
  readonly setup_intents = new Map<string, Stripe.SetupIntent>();
  readonly payment_intents = new Map<string, Stripe.PaymentIntent>();
  readonly charges = new Map<string, Stripe.Charge>();
  readonly refunds = new Map<string, Stripe.Refund>();
  readonly products = new Map<string, Stripe.Product>();
  readonly prices = new Map<string, Stripe.Price>();
  readonly subscriptions = new Map<string, Stripe.Subscription>();
  readonly subscription_items = new Map<string, Stripe.SubscriptionItem>();
  readonly invoices = new Map<string, Stripe.Invoice>();
  readonly invoiceitems = new Map<string, Stripe.InvoiceItem>();
  readonly checkout_sessions = new Map<string, Stripe.Checkout.Session>();
  readonly billing_portal_sessions = new Map<string, Stripe.BillingPortal.Session>();
  readonly events = new Map<string, Stripe.Event>();
  readonly webhook_endpoints = new Map<string, Stripe.WebhookEndpoint>();
  readonly test_clocks = new Map<string, Stripe.TestHelpers.TestClock>();
  readonly tokens = new Map<string, Stripe.Token>();
  /** Ids of deleted objects, so a retrieve can answer `{ id, object, deleted: true }` like Stripe. */
  readonly deleted = new Map<string, string>();
  /** Emulator-only facts per object id (never sent to clients). */
  readonly internal = new Map<string, Record<string, unknown>>();
  /** Idempotency-Key -> stored result, for 24 h. */
  readonly idempotency = new Map<string, IdempotencyRecord>();

  constructor(
    secretKey: string,
    id: string = newId('acct'),
    /** Shared with the owning EmulatorState; events are handed to these listeners. */
    readonly listeners: Set<EventListener> = new Set(),
    /** Shared with the owning EmulatorState: base URL, settings, timers. */
    readonly shared: EmulatorShared = new EmulatorShared(),
  ) {
    this.secretKey = secretKey;
    this.id = id;
  }

  collection<K extends ResourceType>(type: K): Collections[K] {
    return (this as unknown as Collections)[type];
  }

  /** Emulator-only data for an object; created on first use. */
  internalOf(id: string): Record<string, unknown> {
    let data = this.internal.get(id);
    if (!data) {
      data = {};
      this.internal.set(id, data);
    }
    return data;
  }

  clear(): void {
    for (const type of RESOURCE_TYPES) this.collection(type).clear();
    this.deleted.clear();
    this.internal.clear();
    this.idempotency.clear();
  }
}

export interface SerializedAccount {
  id: string;
  secretKey: string;
  collections: Partial<Record<ResourceType, [string, unknown][]>>;
  deleted: [string, string][];
  internal: [string, Record<string, unknown>][];
}

export interface SerializedState {
  version: 1;
  accounts: SerializedAccount[];
}

/** All accounts of one emulator, by secret key. */
export class EmulatorState {
  readonly accounts = new Map<string, Account>();
  readonly listeners = new Set<EventListener>();
  readonly shared = new EmulatorShared();

  /** Registers a listener for events of every account; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The account for a secret key, created on first use (any `sk_test_...` key is accepted). */
  account(secretKey: string): Account {
    let account = this.accounts.get(secretKey);
    if (!account) {
      account = new Account(secretKey, undefined, this.listeners, this.shared);
      this.accounts.set(secretKey, account);
    }
    return account;
  }

  /** Finds the account holding an object (pages such as checkout or 3-D Secure only know the id). */
  findOwner<K extends ResourceType>(
    type: K,
    id: string,
  ): { account: Account; object: ResourceTypes[K] } | undefined {
    for (const account of this.accounts.values()) {
      const object = account.collection(type).get(id);
      if (object) return { account, object };
    }
    return undefined;
  }

  reset(): void {
    this.accounts.clear();
    this.shared.cancelTimers();
  }

  serialize(): SerializedState {
    const accounts: SerializedAccount[] = [];
    for (const account of this.accounts.values()) {
      const collections: SerializedAccount['collections'] = {};
      for (const type of RESOURCE_TYPES) {
        const map = account.collection(type) as Map<string, unknown>;
        if (map.size > 0) collections[type] = [...map.entries()];
      }
      accounts.push({
        id: account.id,
        secretKey: account.secretKey,
        collections,
        deleted: [...account.deleted.entries()],
        internal: [...account.internal.entries()],
      });
    }
    return { version: 1, accounts };
  }

  restore(data: SerializedState): void {
    this.reset();
    for (const saved of data.accounts) {
      const account = new Account(saved.secretKey, saved.id, this.listeners, this.shared);
      for (const type of RESOURCE_TYPES) {
        const entries = saved.collections[type];
        if (!entries) continue;
        const map = account.collection(type) as Map<string, unknown>;
        for (const [id, object] of entries) map.set(id, object);
      }
      for (const [id, object] of saved.deleted) account.deleted.set(id, object);
      for (const [id, value] of saved.internal) account.internal.set(id, value);
      this.accounts.set(account.secretKey, account);
    }
  }
}
