import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The resource an idempotent request created (issue 16): written by the statement that writes the
 * resource (a payment), so that a key whose request failed or whose process died after that statement is
 * never executed again; a retry is answered from the resource (or 409 `idempotency_key_in_use` while its
 * outcome is not known yet).
 */
export class IdempotencyResource1764100000000 implements MigrationInterface {
  name = 'IdempotencyResource1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idempotency_keys ADD COLUMN resource_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idempotency_keys DROP COLUMN resource_id`);
  }
}
