import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Stripe from 'stripe';
import { startEmulator, type RunningEmulator } from '../server.js';

describe('webhook delivery connections', () => {
  let emulator: RunningEmulator;
  let receiver: Server;
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let peak = 0;
  let received = 0;
  let allReceived: () => void = () => undefined;
  const EVENTS = 30;

  beforeAll(async () => {
    // A slow endpoint: each delivery is answered after 20 ms, so deliveries pile up at the emulator.
    receiver = createServer((req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          inFlight--;
          res.writeHead(200).end('{}');
          if (++received === EVENTS) allReceived();
        }, 20),
      );
    });
    receiver.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    emulator = await startEmulator({
      webhookUrl: `http://127.0.0.1:${port}/hook`,
      delivery: { maxConnectionsPerEndpoint: 3 },
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('keeps at most maxConnectionsPerEndpoint connections to an endpoint, reused, and delivers everything', async () => {
    const stripe = new Stripe('sk_test_delivery_connections', {
      ...emulator.stripeConfig(),
      maxNetworkRetries: 0,
    });
    const done = new Promise<void>((resolve) => (allReceived = resolve));
    await Promise.all(Array.from({ length: EVENTS }, (_, i) => stripe.customers.create({ name: `c${i}` })));
    await done;
    expect(received).toBe(EVENTS);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    expect(sockets.size).toBeLessThanOrEqual(3);
  });
});
