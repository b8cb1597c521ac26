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
