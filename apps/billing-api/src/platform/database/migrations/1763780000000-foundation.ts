import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts and their members, the append-only audit log and the HTTP idempotency keys (R-API-5). */
export class Foundation1763780000000 implements MigrationInterface {
  name = 'Foundation1763780000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        billing_email text NOT NULL,
        locale text NOT NULL DEFAULT 'en-US',
        time_zone text NOT NULL DEFAULT 'UTC',
        stripe_customer_id text UNIQUE,
        billing_enabled boolean NOT NULL DEFAULT true,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX accounts_created_idx ON accounts (created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE account_members (
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        user_id text NOT NULL,
        email text NOT NULL,
        role text NOT NULL CHECK (role IN ('owner', 'member')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, user_id)
      )`);
    await q.query(`CREATE INDEX account_members_user_idx ON account_members (user_id)`);
    // Exactly one billing owner per account.
    await q.query(
      `CREATE UNIQUE INDEX account_members_one_owner ON account_members (account_id) WHERE role = 'owner'`,
    );

    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        account_id uuid,
        actor_type text NOT NULL CHECK (actor_type IN ('user', 'system', 'stripe_event', 'reconciliation')),
        actor_id text,
        action text NOT NULL,
        entity_type text NOT NULL,
        entity_id text NOT NULL,
        before jsonb,
        after jsonb,
        reason text,
        correlation_id text
      )`);
    await q.query(`CREATE INDEX audit_log_account_idx ON audit_log (account_id, id DESC)`);
    await q.query(`CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id DESC)`);
    // Append-only: the database itself refuses to change or delete history.
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);

    await q.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        method text NOT NULL,
        path text NOT NULL,
        request_hash text NOT NULL,
        status text NOT NULL CHECK (status IN ('in_progress', 'completed')),
        response_status integer,
        response_body jsonb,
        locked_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (scope, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP FUNCTION audit_log_append_only`);
    await q.query(`DROP TABLE account_members`);
    await q.query(`DROP TABLE accounts`);
  }
}
