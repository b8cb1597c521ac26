/**
 * `npm run bench:emulator`: starts the emulator in-process and drives a mix of customer, payment method
 * and payment intent calls over keep-alive HTTP (form bodies and Idempotency-Key headers, as the SDK
 * sends them), bounded by a call count and a duration. Prints calls/s and latency percentiles.
 *
 * Knobs (environment): BENCH_EMULATOR_CALLS (default 30000), BENCH_EMULATOR_DURATION_MS (default 15000),
 * BENCH_EMULATOR_CONCURRENCY (default 32), BENCH_EMULATOR_ACCOUNTS (default 4).
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { startEmulator } from '../src/server.js';

interface Result {
  status: number;
  body: string;
}

const CALLS = Number(process.env.BENCH_EMULATOR_CALLS ?? 30_000);
const DURATION_MS = Number(process.env.BENCH_EMULATOR_DURATION_MS ?? 15_000);
const CONCURRENCY = Number(process.env.BENCH_EMULATOR_CONCURRENCY ?? 32);
const ACCOUNTS = Number(process.env.BENCH_EMULATOR_ACCOUNTS ?? 4);
const TARGET = 2000;

async function main(): Promise<void> {
  const bootStart = performance.now();
  const emulator = await startEmulator({ port: 0 });
  const bootMs = performance.now() - bootStart;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  const perKind = new Map<string, number[]>();
  let errors = 0;
  let calls = 0;
  const started = performance.now();
  const deadline = started + DURATION_MS;

  function call(kind: string, key: string, method: 'GET' | 'POST', path: string, body = ''): Promise<Result> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const headers: Record<string, string | number> = {
        authorization: `Bearer ${key}`,
        'stripe-version': '2026-10-28.endive',
      };
      if (method === 'POST') {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers['content-length'] = Buffer.byteLength(body);
        headers['idempotency-key'] = `stripe-node-retry-${randomUUID()}`;
      }
      const req = http.request(
        { host: emulator.host, port: emulator.port, method, path, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - t0;
            latencies.push(ms);
            let list = perKind.get(kind);
            if (!list) perKind.set(kind, (list = []));
            list.push(ms);
            calls++;
            const status = res.statusCode ?? 0;
            if (status >= 400) errors++;
            resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const done = (): boolean => calls >= CALLS || performance.now() >= deadline;

  async function worker(index: number): Promise<void> {
    const key = `sk_test_bench_${index % ACCOUNTS}`;
    while (!done()) {
      const customer = JSON.parse(
        (
          await call(
            'customers.create',
            key,
            'POST',
            '/v1/customers',
            `email=bench${index}%40example.com&metadata[run]=bench`,
          )
        ).body,
      ) as { id: string };
      if (done()) break;
      const pm = JSON.parse(
        (
          await call(
            'payment_methods.attach',
            key,
            'POST',
            '/v1/payment_methods/pm_card_visa/attach',
            `customer=${customer.id}`,
          )
        ).body,
      ) as { id: string };
      if (done()) break;
      const pi = JSON.parse(
        (
          await call(
            'payment_intents.create+confirm',
            key,
            'POST',
            '/v1/payment_intents',
            `amount=2000&currency=usd&customer=${customer.id}&payment_method=${pm.id}&confirm=true&metadata[order]=${index}`,
          )
        ).body,
      ) as { id: string };
      if (done()) break;
      await call('customers.retrieve', key, 'GET', `/v1/customers/${customer.id}`);
      if (done()) break;
      await call(
        'payment_intents.retrieve',
        key,
        'GET',
        `/v1/payment_intents/${pi.id}?expand[0]=latest_charge`,
      );
      if (done()) break;
      await call('payment_methods.list', key, 'GET', `/v1/payment_methods?customer=${customer.id}&type=card`);
    }
  }

  await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(i)));
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  await emulator.close();

  const pct = (values: number[], p: number): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  };
  const rate = calls / elapsedS;
  const lines = [
    `stripe-emulator bench: ${calls} calls in ${elapsedS.toFixed(2)} s, concurrency ${CONCURRENCY}, ${ACCOUNTS} accounts (in-process start ${bootMs.toFixed(0)} ms)`,
    `requests/s: ${rate.toFixed(0)} (target >= ${TARGET})`,
    `latency ms: p50 ${pct(latencies, 50).toFixed(2)}  p95 ${pct(latencies, 95).toFixed(2)}  p99 ${pct(latencies, 99).toFixed(2)}  max ${pct(latencies, 100).toFixed(2)}`,
    `errors: ${errors}`,
    ...[...perKind.entries()].map(
      ([kind, values]) =>
        `  ${kind.padEnd(32)} n=${String(values.length).padStart(6)}  p50 ${pct(values, 50).toFixed(2)}  p99 ${pct(values, 99).toFixed(2)}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (errors > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `emulator bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
