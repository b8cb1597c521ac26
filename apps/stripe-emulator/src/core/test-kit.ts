import Stripe from 'stripe';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../server.js';
import { randomString } from './ids.js';

/** A started in-process emulator plus a factory for SDK clients on fresh, isolated accounts. */
export interface TestEmulator {
  emulator: RunningEmulator;
  /** A `stripe` client on a new account (unique `sk_test_` key), no automatic retries. */
  client(options?: { key?: string; maxNetworkRetries?: number }): { stripe: Stripe; key: string };
  close(): Promise<void>;
}

/** For specs: `const kit = await startTestEmulator(); const { stripe } = kit.client();`. */
export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const emulator = await startEmulator({ port: 0, ...options });
  return {
    emulator,
    client(clientOptions = {}) {
      const key = clientOptions.key ?? `sk_test_${randomString(16)}`;
      const stripe = new Stripe(key, {
        ...emulator.stripeConfig(),
        maxNetworkRetries: clientOptions.maxNetworkRetries ?? 0,
      });
      return { stripe, key };
    },
    close: () => emulator.close(),
  };
}

export interface ReceivedWebhook {
  body: string;
  headers: Record<string, string | string[] | undefined>;
  signature: string;
  event: { id: string; type: string; data: { object: Record<string, unknown> } } & Record<string, unknown>;
}

/**
 * A `node:http` webhook receiver for specs. `status` decides the answer per request (default 200);
 * `next(predicate)` resolves when a matching delivery arrives (already received ones count).
 */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  status: (hook: ReceivedWebhook, index: number) => number;
  next(predicate?: (hook: ReceivedWebhook) => boolean): Promise<ReceivedWebhook>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const http = await import('node:http');
  const waiters: {
    predicate: (hook: ReceivedWebhook) => boolean;
    resolve: (hook: ReceivedWebhook) => void;
    seen: number;
  }[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    status: () => 200,
    next(predicate = () => true) {
      const found = receiver.received.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve, seen: 0 }));
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const hook: ReceivedWebhook = {
        body,
        headers: req.headers,
        signature: String(req.headers['stripe-signature'] ?? ''),
        event: JSON.parse(body) as ReceivedWebhook['event'],
      };
      const index = receiver.received.length;
      receiver.received.push(hook);
      res.writeHead(receiver.status(hook, index));
      res.end();
      for (let i = waiters.length - 1; i >= 0; i--) {
        const waiter = waiters[i];
        if (waiter && waiter.predicate(hook)) {
          waiters.splice(i, 1);
          waiter.resolve(hook);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhooks`;
  return receiver;
}
