import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation (R-REC): runs (one per window: the unique key is what keeps two workers from running
 * the same window twice) and their findings; `reconciliation_seen` holds the Stripe ids a running run
 * has paged through, so that the app-side pass finds the mirrors Stripe does not have without keeping
 * the ids in memory (emptied when the run ends).
 */
export class Reconciliation1764440000000 implements MigrationInterface {
  name = 'Reconciliation1764440000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE reconciliation_runs (
      id uuid PRIMARY KEY,
      window_start timestamptz NOT NULL,
      window_end timestamptz NOT NULL,
      trigger text NOT NULL CHECK (trigger IN ('schedule', 'admin')),
      status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
      stats jsonb NOT NULL DEFAULT '{}'::jsonb,
      error text,
      requested_by text,
      started_at timestamptz NOT NULL,
      finished_at timestamptz,
      CHECK (window_start < window_end),
      UNIQUE (window_start, window_end))`);
    await q.query(
      `CREATE INDEX reconciliation_runs_started ON reconciliation_runs (started_at DESC, id DESC)`,
    );
    await q.query(`CREATE TABLE reconciliation_findings (
      id uuid PRIMARY KEY,
      run_id uuid NOT NULL REFERENCES reconciliation_runs(id) ON DELETE CASCADE,
      object_type text NOT NULL CHECK (object_type IN ('subscription', 'invoice', 'payment')),
      stripe_id text NOT NULL,
      account_id uuid,
      kind text NOT NULL,
      safe boolean NOT NULL,
      status text NOT NULL CHECK (status IN ('repaired', 'repair_failed', 'open', 'applied', 'dismissed')),
      app_value jsonb,
      stripe_value jsonb,
      reason text NOT NULL,
      resolution_note text,
      resolved_by text,
      resolved_at timestamptz,
      created_at timestamptz NOT NULL)`);
    await q.query(
      `CREATE INDEX reconciliation_findings_run ON reconciliation_findings (run_id, created_at, id)`,
    );
    await q.query(
      `CREATE INDEX reconciliation_findings_waiting ON reconciliation_findings (created_at) WHERE status IN ('open', 'repair_failed')`,
    );
    await q.query(`CREATE UNLOGGED TABLE reconciliation_seen (
      run_id uuid NOT NULL,
      object_type text NOT NULL,
      stripe_id text NOT NULL,
      PRIMARY KEY (run_id, object_type, stripe_id))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reconciliation_seen`);
    await q.query(`DROP TABLE reconciliation_findings`);
    await q.query(`DROP TABLE reconciliation_runs`);
  }
}
