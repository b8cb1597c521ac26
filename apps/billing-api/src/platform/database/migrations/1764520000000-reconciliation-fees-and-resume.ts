import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation, issue 21's leftovers:
 * - fees and nets: payments and refunds record their balance transaction (id, fee, net; minor units,
 *   signed as Stripe signs them), mirrored from the webhook path, so that reconciliation compares what a
 *   finance team compares and the payment and refund views show them; findings about a refund.
 * - resumable runs: a run stores where it is (`cursor`: the phase and the last Stripe id or keyset id of
 *   the last page done) and who runs it (`lease_owner` until `lease_expires_at`, renewed every page), so
 *   that a failed page is retried from the cursor and a run whose worker died is resumed by the next
 *   worker; one finding per object and kind in a run, so that a retried page cannot count it twice.
 */
export class ReconciliationFeesAndResume1764520000000 implements MigrationInterface {
  name = 'ReconciliationFeesAndResume1764520000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['payments', 'refunds']) {
      await q.query(`ALTER TABLE ${table}
        ADD COLUMN balance_transaction_id text,
        ADD COLUMN fee bigint,
        ADD COLUMN net bigint`);
    }
    await q.query(
      `ALTER TABLE reconciliation_findings DROP CONSTRAINT reconciliation_findings_object_type_check`,
    );
    await q.query(`ALTER TABLE reconciliation_findings ADD CONSTRAINT reconciliation_findings_object_type_check
      CHECK (object_type IN ('subscription', 'invoice', 'payment', 'refund'))`);
    await q.query(`CREATE UNIQUE INDEX reconciliation_findings_once
      ON reconciliation_findings (run_id, object_type, stripe_id, kind)`);
    await q.query(`ALTER TABLE reconciliation_runs
      ADD COLUMN cursor jsonb,
      ADD COLUMN lease_owner text,
      ADD COLUMN lease_expires_at timestamptz`);
    await q.query(`CREATE INDEX reconciliation_runs_abandoned ON reconciliation_runs (lease_expires_at)
      WHERE status = 'running'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX reconciliation_runs_abandoned`);
    await q.query(`ALTER TABLE reconciliation_runs
      DROP COLUMN lease_expires_at, DROP COLUMN lease_owner, DROP COLUMN cursor`);
    await q.query(`DROP INDEX reconciliation_findings_once`);
    await q.query(`DELETE FROM reconciliation_findings WHERE object_type = 'refund'`);
    await q.query(
      `ALTER TABLE reconciliation_findings DROP CONSTRAINT reconciliation_findings_object_type_check`,
    );
    await q.query(`ALTER TABLE reconciliation_findings ADD CONSTRAINT reconciliation_findings_object_type_check
      CHECK (object_type IN ('subscription', 'invoice', 'payment'))`);
    for (const table of ['refunds', 'payments']) {
      await q.query(`ALTER TABLE ${table}
        DROP COLUMN net, DROP COLUMN fee, DROP COLUMN balance_transaction_id`);
    }
  }
}
