import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Billing ownership transfers (R-SUB-9): the owner names another member, who confirms through an
 * e-mailed one-time link. Only the SHA-256 of the link's token is kept (`token_hash`), never the token.
 * At most one pending transfer per account: a new one supersedes the last.
 */
export class OwnershipTransfers1764410000000 implements MigrationInterface {
  name = 'OwnershipTransfers1764410000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ownership_transfers (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts(id),
      from_user_id text NOT NULL,
      to_user_id text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'superseded')),
      expires_at timestamptz NOT NULL,
      confirmed_at timestamptz,
      created_at timestamptz NOT NULL)`);
    await q.query(
      `CREATE UNIQUE INDEX ownership_transfers_one_pending ON ownership_transfers (account_id) WHERE status = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ownership_transfers`);
  }
}
