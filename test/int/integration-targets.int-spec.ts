import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DeliverIntegrationEvent } from '../../apps/billing-api/src/modules/integrations/commands/deliver-integration-event.js';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { createAccount } from './webhooks.support.js';

interface ErrorBody {
  error: { code: string; param?: string };
}

// Issue 16 (9): integration endpoints may not point inside the network unless the operator allows it,
// neither when added nor when delivered to (a name may resolve elsewhere by then).
describe('integration endpoint targets (SSRF)', () => {
  let t: TestApp;
  let admin: string;
  let receiver: Server;
  let receiverUrl: string;
  let received = 0;

  beforeAll(async () => {
    t = await startTestApp({ role: 'api' });
    admin = await tokenFor({ sub: 'admin-ssrf', role: 'admin' });
    receiver = createServer((_req, res) => {
      received++;
      res.statusCode = 204;
      res.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  });
  afterAll(async () => {
    await t?.close();
    receiver?.close();
  });

  it('refuses private, loopback and link-local targets, by address or by name, and stores none', async () => {
    const before = await t.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM integration_endpoints`);
    for (const url of [
      receiverUrl,
      'http://localhost:8080/x',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/x',
      'http://192.168.0.10/x',
      'http://172.20.0.1/x',
      'http://[::1]:3000/x',
      'http://[fe80::1]/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://0.0.0.0/x',
    ]) {
      const r = await http<ErrorBody>(t.url, 'POST', '/v1/admin/integration-endpoints', {
        token: admin,
        body: { url },
      });
      expect({ url, status: r.status, code: r.body.error?.code, param: r.body.error?.param }).toEqual({
        url,
        status: 422,
        code: 'integration_target_forbidden',
        param: 'url',
      });
    }
    const after = await t.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM integration_endpoints`);
    expect(after[0]?.n).toBe(before[0]?.n);
    const publicTarget = await http(t.url, 'POST', '/v1/admin/integration-endpoints', {
      token: admin,
      body: { url: 'https://93.184.215.14/hooks' },
    });
    expect(publicTarget.status).toBe(201);
  });

  it('checks again at delivery: an endpoint that points inside gets nothing, the attempt says why', async () => {
    // As if the endpoint had been added while its name resolved to a public address.
    const accountId = await createAccount(t.url, admin);
    const endpointId = randomUUID();
    const eventId = randomUUID();
    const deliveryId = randomUUID();
    await t.db.query(
      `INSERT INTO integration_endpoints (id, url, secret, created_at) VALUES ($1, $2, 'whsec_x', now())`,
      [endpointId, receiverUrl],
    );
    await t.db.query(
      `INSERT INTO integration_events (id, account_id, type, subject_id, dedupe_key, payload, created_at)
       VALUES ($1, $2, 'payment.succeeded', $3, $4, '{}', now())`,
      [eventId, accountId, randomUUID(), `ssrf-${eventId}`],
    );
    await t.db.query(
      `INSERT INTO integration_deliveries (id, event_id, endpoint_id, status, created_at, updated_at)
       VALUES ($1, $2, $3, 'pending', now(), now())`,
      [deliveryId, eventId, endpointId],
    );
    const result = await t.app.get(DeliverIntegrationEvent).execute(deliveryId, { lastAttempt: true });
    expect(result).toBe('failed');
    expect(received).toBe(0);
    const [attempt] = await t.db.query<{ error: string; status_code: number | null }[]>(
      `SELECT error, status_code FROM integration_delivery_attempts WHERE delivery_id = $1`,
      [deliveryId],
    );
    expect(attempt?.status_code).toBeNull();
    expect(attempt?.error).toMatch(/target refused/);
  });
});
