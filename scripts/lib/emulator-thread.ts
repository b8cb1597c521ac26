/**
 * The Stripe emulator on a worker thread of the bench's process, for the benches whose clients time
 * requests: in the clients' own thread, the emulator's work (answering, building invoices, signing and
 * sending webhooks) would delay the clients' handling of the service's answers and count as the
 * service's time. On a thread of the same process its CPU is still the bench's in /proc.
 */
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startEmulator, type EmulatorOptions } from '../../apps/stripe-emulator/src/server.js';
import type { ChaosSettings } from '../../apps/stripe-emulator/src/core/chaos.js';

type Message = { type: 'chaos'; settings: Partial<ChaosSettings> } | { type: 'close' };

export interface EmulatorThread {
  url: string;
  /** Updates the emulator's chaos settings; resolves once they apply. */
  chaos(settings: Partial<ChaosSettings>): Promise<void>;
  close(): Promise<void>;
}

/** Starts the emulator with `options` on a worker thread; resolves with its URL once it listens. */
export function startEmulatorThread(options: EmulatorOptions): Promise<EmulatorThread> {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: options });
  const reply = () =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  return reply().then((url) => ({
    url: url as string,
    chaos: async (settings) => {
      const done = reply();
      worker.postMessage({ type: 'chaos', settings } satisfies Message);
      await done;
    },
    close: async () => {
      const done = reply();
      worker.postMessage({ type: 'close' } satisfies Message);
      await done;
      await worker.terminate();
    },
  }));
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const emulator = await startEmulator(workerData as EmulatorOptions);
  port.on('message', (message: Message) => {
    if (message.type === 'chaos') {
      emulator.chaos.update(message.settings);
      port.postMessage('ok');
    } else {
      void emulator.close().then(() => port.postMessage('closed'));
    }
  });
  port.postMessage(emulator.url);
}
