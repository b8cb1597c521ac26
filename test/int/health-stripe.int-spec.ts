import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkerMetricsServer } from '../../apps/billing-api/src/platform/metrics/worker-metrics-server.js';
import { startTestEmulator, type TestEmulator } from '../../apps/stripe-emulator/src/core/test-kit.js';
import { http, startTestApp, type TestApp } from '../support/test-app.js';
import { until } from './webhooks.support.js';

interface Ready {
  status: string;
  info?: Record<string, { status: string; latencyMs?: number }>;
  details?: Record<string, { status: string; latencyMs?: number; message?: string }>;
}

const chaos = async (kit: TestEmulator, body: Record<string, unknown>) => {
  const res = await fetch(`${kit.emulator.url}/_emulator/chaos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`chaos answered ${res.status}`);
};

// Readiness reports Stripe from a cached probe (R-OPS-1): a slow or unreachable Stripe shows in
// /health/ready within a probe interval, never slows it down, and never touches liveness.
describe('readiness: Stripe reachability from a cached probe; the worker health port', () => {
  let kit: TestEmulator;
  let api: TestApp;
  let strict: TestApp;
  const env = (extra: Record<string, string> = {}) => ({
    STRIPE_API_BASE: kit.emulator.url,
    STRIPE_SECRET_KEY: 'sk_test_health_probe',
    STRIPE_PROBE_INTERVAL_MS: '1000',
    STRIPE_PROBE_TIMEOUT_MS: '300',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    ...extra,
  });

  beforeAll(async () => {
    kit = await startTestEmulator();
    api = await startTestApp({ role: 'api', env: env() });
    strict = await startTestApp({ role: 'api', env: env({ STRIPE_PROBE_REQUIRED: 'true' }) });
  });
  afterAll(async () => {
    await api?.close();
    await strict?.close();
    await kit?.close();
  });

  it('reports Stripe up with the probe latency', async () => {
    const ready = await http<Ready>(api.url, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details).toMatchObject({
      database: { status: 'up' },
      redis: { status: 'up' },
      stripe: { status: 'up' },
    });
    expect(typeof ready.body.details?.stripe?.latencyMs).toBe('number');
  });

  it('a slow Stripe shows as down from the cache, answers fast, and never fails liveness', async () => {
    await chaos(kit, { latencyMs: 2000 });
    try {
      const down = await until(async () => {
        const r = await http<Ready>(api.url, 'GET', '/health/ready');
        return r.body.details?.stripe?.status === 'down' ? r : null;
      }, 'the probe to notice the slow Stripe');
      // Not required: reported, but the replica stays in the load balancer.
      expect(down.status).toBe(200);
      expect(down.body.details?.stripe?.message).toMatch(/no answer within 300 ms/);
      const started = performance.now();
      const again = await http<Ready>(api.url, 'GET', '/health/ready');
      expect(performance.now() - started).toBeLessThan(1000);
      expect(again.body.details?.stripe?.status).toBe('down');
      expect((await http(api.url, 'GET', '/health')).status).toBe(200);

      // Required: 503 naming Stripe.
      const failing = await until(async () => {
        const r = await http<{ error: { code: string; details: Ready } }>(strict.url, 'GET', '/health/ready');
        return r.status === 503 ? r : null;
      }, 'strict readiness to fail');
      expect(failing.body.error.code).toBe('service_unavailable');
      expect(failing.body.error.details.details?.stripe?.status).toBe('down');
    } finally {
      await chaos(kit, { reset: true });
    }
    await until(
      async () => (await http<Ready>(api.url, 'GET', '/health/ready')).body.details?.stripe?.status === 'up',
      'the probe to see Stripe back',
    );
    await until(
      async () => (await http(strict.url, 'GET', '/health/ready')).status === 200,
      'strict ready again',
    );
  });

  it('a worker answers /health and /health/ready on its metrics port', async () => {
    const worker = await startTestApp({ role: 'worker', env: env({ METRICS_PORT: '0' }) });
    try {
      const port = worker.app.get(WorkerMetricsServer).port();
      expect(port).not.toBeNull();
      const base = `http://127.0.0.1:${String(port)}`;
      const live = await http<{ status: string }>(base, 'GET', '/health');
      expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
      const ready = await http<Ready>(base, 'GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details).toMatchObject({ database: { status: 'up' }, stripe: { status: 'up' } });
      expect((await http(base, 'GET', '/nothing')).status).toBe(404);
    } finally {
      await worker.close();
    }
  });
});
