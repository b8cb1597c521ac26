import type { DataSource } from 'typeorm';
import { http } from '../support/test-app.js';
import type { StripeWorld } from '../support/stripe-world.js';
import { until } from './webhooks.support.js';

/** Reconciliation suites: driving the emulator's admin API and the reconciliation admin API. */

export interface RunBody {
  id: string;
  status: string;
  windowStart: string;
  windowEnd: string;
  stats: { compared: Record<string, number>; findings: number; repaired: number; awaitingAdmin: number };
  findings: FindingBody[];
}

export interface FindingBody {
  id: string;
  objectType: string;
  stripeId: string;
  kind: string;
  safe: boolean;
  status: string;
  reason: string;
}

/** POST to the emulator's admin API (JSON). */
export async function emulatorAdmin(
  w: StripeWorld,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${w.kit.emulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200)
    throw new Error(`${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Changes a Stripe object as the dashboard would, without a webhook. */
export function dashboard(w: StripeWorld, type: string, id: string, body: Record<string, unknown>) {
  return emulatorAdmin(w, `/_emulator/dashboard/${type}/${id}`, body);
}

/** Every delivered webhook is applied: the emulator's deliveries are idle and the inbox is drained. */
export async function webhooksSettled(w: StripeWorld): Promise<void> {
  await w.kit.emulator.delivery.idle();
  await until(async () => {
    const [row] = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM webhook_events WHERE status IN ('pending', 'processing', 'failed')`,
    );
    return row?.n === 0;
  }, 'the webhook inbox drained');
}

/** Requests a run over [from, to) and waits for a worker to finish it. */
export async function reconcile(w: StripeWorld, window: { from: Date; to: Date }): Promise<RunBody> {
  const started = await http<RunBody>(w.t.url, 'POST', '/v1/admin/reconciliation/runs', {
    token: w.admin,
    body: { from: window.from.toISOString(), to: window.to.toISOString() },
  });
  if (started.status !== 202)
    throw new Error(`run request answered ${started.status}: ${JSON.stringify(started.body)}`);
  return until(
    async () => {
      const run = await http<RunBody>(w.t.url, 'GET', `/v1/admin/reconciliation/runs/${started.body.id}`, {
        token: w.admin,
      });
      return run.body.status === 'running' ? null : run.body;
    },
    'the reconciliation run to finish',
    120_000,
  );
}

/** The findings of a run about one Stripe object, as `kind:status` strings (sorted). */
export function findingsOf(run: RunBody, stripeId: string): string[] {
  return run.findings
    .filter((f) => f.stripeId === stripeId)
    .map((f) => `${f.kind}:${f.status}`)
    .sort();
}

/** The audit entries about an entity written by reconciliation. */
export async function reconciliationAudits(db: DataSource, entityId: string): Promise<string[]> {
  const rows = await db.query<{ action: string }[]>(
    `SELECT action FROM audit_log WHERE entity_id = $1 AND actor_type = 'reconciliation' ORDER BY id`,
    [entityId],
  );
  return rows.map((r) => r.action);
}

/** Polls a run's row (read by `read`) until the run is no longer `running`; returns that row. */
export function untilRunEnds<T extends { status: string }>(
  read: () => Promise<T>,
  what: string,
  timeoutMs: number,
): Promise<T> {
  return until(
    async () => {
      const row = await read();
      return row.status === 'running' ? null : row;
    },
    what,
    timeoutMs,
  );
}
