import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The note of a refund (R-REF-1): required with reason `other`, optional otherwise. Kept on the refund
 * (it was only in the audit record) so that the API shows it and a resubmission sends Stripe the same
 * `metadata.note`. At most 500 characters, as the API and Stripe's metadata values allow.
 */
export class RefundNote1763880000000 implements MigrationInterface {
  name = 'RefundNote1763880000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE refunds ADD COLUMN note text CHECK (note IS NULL OR char_length(note) BETWEEN 1 AND 500)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refunds DROP COLUMN note`);
  }
}
