import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource, QueryFailedError } from 'typeorm';
import {
  dataSourceOptions,
  runMigrationsLocked,
} from '../../apps/billing-api/src/platform/database/data-source.js';
import { randomUUID } from 'node:crypto';
import { AccountOrmEntity } from '../../apps/billing-api/src/modules/accounts/persistence/account.orm-entity.js';
import { PaymentOrmEntity } from '../../apps/billing-api/src/modules/payments/persistence/payment.orm-entity.js';
import {
  ASYNC_COMMIT_CTE,
  findRows,
  queryRows,
  rows,
  sql,
  withoutPreparedStatements,
} from '../../apps/billing-api/src/platform/database/row-sql.js';
import { startTestApp } from '../support/test-app.js';
import { ensureTestDatabase, TEST_DATABASE_URL } from '../support/test-env.js';

/** The statements prepared on this data source's one connection (pg_prepared_statements is per session). */
async function preparedOn(db: DataSource): Promise<string[]> {
  const found = await db.query<{ name: string }[]>(
    `SELECT name FROM pg_prepared_statements WHERE name LIKE 'rs\\_%' ORDER BY name`,
  );
  return found.map((r) => r.name);
}

describe('row-sql against PostgreSQL: prepared statements (DB_PREPARED_STATEMENTS)', () => {
  let prepared: DataSource;
  let unprepared: DataSource;

  beforeAll(async () => {
    await ensureTestDatabase();
    // One connection each, so that the session this test inspects is the one the statements ran on.
    const options = { ...dataSourceOptions(TEST_DATABASE_URL), extra: { max: 1 } };
    prepared = await new DataSource(options).initialize();
    unprepared = await new DataSource(options).initialize();
    withoutPreparedStatements(unprepared);
  });
  afterAll(async () => {
    await prepared?.destroy();
    await unprepared?.destroy();
  });

  it('prepares each text once per connection, under a name of its own, and answers the same', async () => {
    const pool = (db: DataSource) =>
      (db.driver as unknown as { master: { options: { max: number } } }).master;
    expect([pool(prepared).options.max, pool(unprepared).options.max]).toEqual([1, 1]);
    const text = `SELECT $1::int + 1 AS n`;
    expect(await rows<{ n: number }>(prepared, text, [1])).toEqual([{ n: 2 }]);
    expect(await rows<{ n: number }>(prepared, text, [41])).toEqual([{ n: 42 }]);
    expect(await queryRows<{ s: string }>(prepared.manager, sql`SELECT ${'a'}::text || 'b' AS s`)).toEqual([
      { s: 'ab' },
    ]);
    const names = await preparedOn(prepared);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    // Through a transaction's manager the same text reuses its statement.
    await prepared.transaction((manager) => rows(manager, text, [2]));
    expect(await preparedOn(prepared)).toEqual(names);
  });

  it("fails with TypeORM's QueryFailedError outside a transaction (the pool) and inside one (the runner)", async () => {
    const divide = `SELECT 1 / $1::int AS n`;
    await expect(rows(prepared, divide, [0])).rejects.toBeInstanceOf(QueryFailedError);
    await expect(rows(prepared.manager, divide, [0])).rejects.toThrow(/division by zero/);
    await expect(prepared.transaction((manager) => rows(manager, divide, [0]))).rejects.toBeInstanceOf(
      QueryFailedError,
    );
    expect(await rows<{ n: number }>(prepared, divide, [1])).toEqual([{ n: 1 }]);
  });

  it('ASYNC_COMMIT_CTE turns synchronous_commit off for its own statement only', async () => {
    const setting = `current_setting('synchronous_commit') AS s`;
    // The same connection (max: 1) runs both: the setting must not outlive the statement's transaction.
    expect(await rows(prepared, `WITH ${ASYNC_COMMIT_CTE} SELECT ${setting} FROM async_commit`)).toEqual([
      { s: 'off' },
    ]);
    expect(await rows(prepared, `SELECT ${setting}`)).toEqual([{ s: 'on' }]);
    // A data-modifying statement reads it the same way, and its write commits.
    await rows(prepared, `CREATE TEMP TABLE IF NOT EXISTS async_probe (n int)`);
    const written = await rows(
      prepared,
      `WITH ${ASYNC_COMMIT_CTE} INSERT INTO async_probe (n) SELECT 7 FROM async_commit RETURNING n, ${setting}`,
    );
    expect(written).toEqual([{ n: 7, s: 'off' }]);
    expect(await rows(prepared, `SELECT n, ${setting} FROM async_probe`)).toEqual([{ n: 7, s: 'on' }]);
  });

  it('runs every statement unnamed when turned off', async () => {
    expect(await rows<{ n: number }>(unprepared, `SELECT $1::int + 1 AS n`, [1])).toEqual([{ n: 2 }]);
    await unprepared.transaction((manager) => queryRows(manager, sql`SELECT ${1}::int AS one`));
    expect(await preparedOn(unprepared)).toEqual([]);
  });

  it('the app turns them off with DB_PREPARED_STATEMENTS=false', async () => {
    const t = await startTestApp({ role: 'api', env: { DB_PREPARED_STATEMENTS: 'false' } });
    try {
      const runner = t.db.createQueryRunner();
      await runner.connect();
      try {
        await rows(runner.manager, `SELECT $1::int AS n`, [7]);
        const found: unknown = await runner.query(
          `SELECT name FROM pg_prepared_statements WHERE name LIKE 'rs\\_%'`,
        );
        expect(found).toEqual([]);
      } finally {
        await runner.release();
      }
    } finally {
      await t.close();
    }
  }, 30_000);
});

describe('row-sql against PostgreSQL: findRows', () => {
  let db: DataSource;

  beforeAll(async () => {
    await ensureTestDatabase();
    db = await new DataSource({
      ...dataSourceOptions(TEST_DATABASE_URL),
      entities: [AccountOrmEntity, PaymentOrmEntity],
      extra: { max: 2 },
    }).initialize();
    await runMigrationsLocked(db);
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it("hydrates rows as TypeORM's findOne does (bigint, jsonb, timestamps, nulls), and locks them when asked", async () => {
    const now = new Date('2026-12-03T10:11:12.345Z');
    const account = await db.getRepository(AccountOrmEntity).save({
      id: randomUUID(),
      name: 'Rows Ltd',
      billingEmail: 'rows@example.com',
      locale: 'en-US',
      timeZone: 'UTC',
      stripeCustomerId: null,
      billingEnabled: true,
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    const payment = await db.getRepository(PaymentOrmEntity).save({
      id: randomUUID(),
      accountId: account.id,
      stripePaymentIntentId: `pi_${randomUUID().slice(0, 12)}`,
      stripeCustomerId: null,
      amount: 9_007_199_254_740_991,
      currency: 'usd',
      status: 'succeeded',
      amountReceived: 1500,
      amountRefunded: 0,
      description: null,
      orderReference: 'order-7',
      metadata: { cart: 'c1', nested: 'a "quoted" value' },
      stripePaymentMethodId: 'pm_1',
      paymentMethodType: 'card',
      cardBrand: 'visa',
      cardLast4: '4242',
      cardExpMonth: 12,
      cardExpYear: 2030,
      cardFunding: 'credit',
      failureCode: null,
      declineCode: null,
      failureMessage: null,
      latestChargeId: 'ch_1',
      checkoutSessionId: null,
      origin: 'api',
      succeededAt: now,
      stripeCreatedAt: now,
      lastEventCreated: 1_796_284_291,
      version: 2,
      createdAt: now,
      updatedAt: now,
    });
    const byTypeOrm = await db.getRepository(PaymentOrmEntity).findOneOrFail({ where: { id: payment.id } });
    const [found, ...others] = await findRows(db.manager, PaymentOrmEntity, sql`id = ${payment.id}::uuid`);
    expect(others).toEqual([]);
    expect(found).toEqual(byTypeOrm);
    expect(Object.getPrototypeOf(found)).toBe(Object.getPrototypeOf(byTypeOrm));
    expect(found?.amount).toBe(9_007_199_254_740_991);
    expect(await findRows(db.manager, PaymentOrmEntity, sql`id = ${randomUUID()}::uuid`)).toEqual([]);

    // FOR UPDATE: a second transaction cannot take the row while the first holds it.
    await db.transaction(async (manager) => {
      await findRows(manager, PaymentOrmEntity, sql`id = ${payment.id}::uuid`, { lock: 'for_update' });
      const other = db.createQueryRunner();
      await other.connect();
      try {
        await other.startTransaction();
        await expect(
          other.query(`SELECT id FROM payments WHERE id = $1 FOR UPDATE NOWAIT`, [payment.id]),
        ).rejects.toThrow(/could not obtain lock/);
        await other.rollbackTransaction();
      } finally {
        await other.release();
      }
    });
  });
});
