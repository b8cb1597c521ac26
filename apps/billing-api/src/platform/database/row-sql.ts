import { createHash } from 'node:crypto';
import sql, { join, raw, type Sql } from 'sql-template-tag';
import type { Pool, QueryResultRow } from 'pg';
import {
  QueryFailedError,
  type DataSource,
  type EntityManager,
  type EntityTarget,
  type ObjectLiteral,
} from 'typeorm';

export { sql, join, raw, type Sql };

/**
 * SQL fragments for writing entity rows, composed into ONE statement where a use case writes several
 * rows at once (e.g. a payment, its status history line and its audit record as data-modifying CTEs).
 * Every statement is a round trip to PostgreSQL, and on the hot paths (issue 5 benchmark) round trips
 * are most of our own CPU time. Columns and values come from the TypeORM entity metadata, so the
 * entity stays the one description of its table (column names, and the driver applies its transformers
 * and jsonb serialization).
 * `sql-template-tag` numbers the parameters of nested fragments.
 */
/**
 * Columns whose value is an SQL expression of the statement instead of a parameter, e.g. a column of the
 * CTE the row is selected from (`insertRowSql`'s `onlyWith`); they take precedence over `values`.
 */
export type RowExpressions<T> = { [K in keyof T]?: Sql };

function columnsOf<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  values: Partial<T>,
  skipPrimary = false,
  expressions: RowExpressions<T> = {},
): { names: Sql[]; values: unknown[] } {
  const metadata = manager.connection.getMetadata(entity);
  const driver = manager.connection.driver;
  const names: Sql[] = [];
  const prepared: unknown[] = [];
  for (const column of metadata.columns) {
    const expression = expressions[column.propertyName as keyof T];
    if (expression) {
      names.push(raw(driver.escape(column.databaseName)));
      prepared.push(expression);
      continue;
    }
    if (!(column.propertyName in values) || (skipPrimary && column.isPrimary)) continue;
    names.push(raw(driver.escape(column.databaseName)));
    prepared.push(driver.preparePersistentValue(column.getEntityValue(values), column));
  }
  return { names, values: prepared };
}

function tableOf(manager: EntityManager, entity: EntityTarget<ObjectLiteral>): Sql {
  const metadata = manager.connection.getMetadata(entity);
  return raw(manager.connection.driver.escape(metadata.tableName));
}

/**
 * `INSERT INTO <table> (<columns>) SELECT <values> [FROM <onlyWith>]`: with `onlyWith`, the row is written
 * once per row of that CTE of the same statement, i.e. only when the step it describes happened.
 * `expressions`: columns whose values come from the statement (e.g. `sql\`m.card_brand\`` with
 * `onlyWith` naming the CTE `m`).
 */
export function insertRowSql<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  values: Partial<T>,
  onlyWith?: string,
  expressions?: RowExpressions<T>,
): Sql {
  const { names, values: prepared } = columnsOf(manager, entity, values, false, expressions);
  const from = onlyWith ? sql` FROM ${raw(onlyWith)}` : sql``;
  return sql`INSERT INTO ${tableOf(manager, entity)} (${join(names)}) SELECT ${join(prepared)}${from}`;
}

/** `UPDATE <table> SET <every given column but the primary key> WHERE <where>`. */
export function updateRowSql<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  values: Partial<T>,
  where: Sql,
): Sql {
  const { names, values: prepared } = columnsOf(manager, entity, values, true);
  const assignments = names.map((name, i) => sql`${name} = ${prepared[i]}`);
  return sql`UPDATE ${tableOf(manager, entity)} SET ${join(assignments)} WHERE ${where}`;
}

/**
 * The rows of an entity's table that match `where` (optionally locked `FOR UPDATE`, or `FOR NO KEY
 * UPDATE`: it keeps other writers out yet lets rows that reference them by a foreign key be written
 * meanwhile, whose check takes FOR KEY SHARE), as entities:
 * `SELECT <every column> FROM <table> WHERE <where>`, run as a prepared statement (see `rows`), each row
 * hydrated from the entity metadata as TypeORM's `find` hydrates it (value transformers, jsonb, the
 * driver's conversions). For the reads on hot paths: TypeORM's query builder builds its SQL anew on
 * every call and sends it unnamed, so PostgreSQL parses and plans it every time.
 */
export async function findRows<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  where: Sql,
  options: { lock?: 'for_update' | 'for_no_key_update' } = {},
): Promise<T[]> {
  const lock =
    options.lock === 'for_update'
      ? sql` FOR UPDATE`
      : options.lock === 'for_no_key_update'
        ? sql` FOR NO KEY UPDATE`
        : sql``;
  const found = await queryRows<Record<string, unknown>>(
    manager,
    sql`SELECT ${entityColumnsSql(manager, entity)} FROM ${tableOf(manager, entity)} WHERE ${where}${lock}`,
  );
  return found.map((values) => hydrateRow(manager, entity, values));
}

/**
 * The column list of an entity's table (`a.col, ...` with an `alias`), each column under its own name:
 * for a statement that reads an entity's row beside other values (see {@link hydrateRow}).
 */
export function entityColumnsSql(
  manager: EntityManager,
  entity: EntityTarget<ObjectLiteral>,
  alias?: string,
): Sql {
  const metadata = manager.connection.getMetadata(entity);
  const driver = manager.connection.driver;
  const prefix = alias ? `${driver.escape(alias)}.` : '';
  return join(metadata.columns.map((column) => raw(`${prefix}${driver.escape(column.databaseName)}`)));
}

/**
 * An entity from a result row that holds its columns under their own names ({@link entityColumnsSql}),
 * hydrated as TypeORM's `find` hydrates it (value transformers, jsonb, the driver's conversions).
 */
export function hydrateRow<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  values: Record<string, unknown>,
): T {
  const metadata = manager.connection.getMetadata(entity);
  const driver = manager.connection.driver;
  const row = metadata.create(undefined, { fromDeserializer: true }) as T;
  for (const column of metadata.columns) {
    column.setEntityValue(row, driver.prepareHydratedValue(values[column.databaseName], column));
  }
  return row;
}

/**
 * `WITH async_commit AS (...)`: the start of a statement whose implicit transaction commits without
 * waiting for its WAL flush (`set_config(..., true)` lasts to the end of that transaction, its commit
 * included). The statement must read the CTE (`FROM async_commit`), or PostgreSQL does not run it.
 * Only for a statement run on its own (a data source, not a transaction's manager) and only for
 * bookkeeping whose loss in a database crash is harmless: the row goes back to what it was, as if the
 * statement had not run yet, and nothing outside the database acted on it before a later durable commit
 * (every commit that waits for the flush flushes the WAL written before it, this one's included).
 * A commit that skips the wait costs PostgreSQL a WAL flush less: on the payment path (issue 5) the
 * three bookkeeping statements that use it (the idempotency key's claim, the e-mail's lease, the mark
 * of a webhook event that changed nothing) saved about 0.2 of PostgreSQL's 2.6 ms per payment.
 */
export const ASYNC_COMMIT_CTE = `async_commit AS (SELECT set_config('synchronous_commit', 'off', true))`;

/** Data sources whose statements run unnamed (DB_PREPARED_STATEMENTS=false). */
const unprepared = new WeakSet<DataSource>();

/**
 * Runs this data source's statements unnamed, each parsed and planned anew: for a connection pooler
 * that hands a session's connection to other clients between transactions (PgBouncer in transaction
 * mode before 1.21, or without `max_prepared_statements`), where a statement prepared on one server
 * connection is unknown on the next.
 */
export function withoutPreparedStatements(db: DataSource): void {
  unprepared.add(db);
}

/** Statement names by text: the same text always gets the same name (see `rows`). */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `rs_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Runs raw SQL and returns the rows. TypeORM's postgres driver answers UPDATE/DELETE with
 * `[rows, rowCount]` and everything else with the rows; callers only want the rows.
 *
 * The statement runs as a named prepared statement, unless the data source was set
 * `withoutPreparedStatements` (node-postgres prepares it once per connection and
 * PostgreSQL then reuses its plan): on the hot paths, planning the composed statements was a quarter
 * of PostgreSQL's CPU per payment. The name is a hash of the text, so a name never stands for two texts;
 * callers pass fixed texts (parameters for every value), so each connection holds a bounded set. Their
 * result columns are named, never `*` (nor `RETURNING *`): PostgreSQL re-plans a prepared statement
 * after a migration, but refuses one whose result columns changed under it ("cached plan must not
 * change result type"), e.g. in a process still running while a new release adds a column.
 * Outside a transaction (a data source, or a manager without a query runner), the statement goes to
 * the driver's node-postgres pool directly: TypeORM's `query` would make a query runner, take a pool
 * connection through it and broadcast query events around it, for each statement. Inside a transaction
 * (or another session-bound runner) it runs on that runner's connection through TypeORM, whose `query`
 * takes a string but hands its first argument to node-postgres unchanged, which accepts a query config
 * (`{ name, text }`). Either way a failure is TypeORM's QueryFailedError.
 */
export async function rows<R>(
  db: DataSource | EntityManager,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const source = 'connection' in db ? db.connection : db;
  const name = unprepared.has(source) ? undefined : statementName(text);
  if (!('connection' in db) || !db.queryRunner) {
    const pool = (source.driver as unknown as { master: Pool }).master;
    try {
      return (await pool.query<R & QueryResultRow>({ name, text, values: params })).rows;
    } catch (error) {
      throw new QueryFailedError(text, params, error as Error);
    }
  }
  const query = name ? ({ name, text } as unknown as string) : text;
  const result: unknown = await db.query(query, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  )
    return result[0] as R[];
  return result as R[];
}

/** Runs a composed statement and returns its rows. */
export function queryRows<R>(db: DataSource | EntityManager, statement: Sql): Promise<R[]> {
  return rows<R>(db, statement.text, statement.values);
}

/**
 * One module's writes inside a statement that another module's use case runs (e.g. a payment's status
 * change together with its integration event and its receipt): data-modifying CTEs, columns of the
 * statement's single result row that report what they wrote, and what to do with that row once the
 * statement ran (e.g. enqueue the jobs of outbox rows, deferred to the commit by AfterCommit when a
 * transaction is open). PostgreSQL runs every data-modifying CTE exactly once, whether or not the
 * final SELECT reads it.
 *
 * The contract between the modules whose parts meet in one statement:
 * - Every CTE and output a module contributes is named in the module's namespace, `<module>__<name>`
 *   (`integrations__event`, `receipts__issued`, `payments__moved`): parts of different modules never
 *   collide, and {@link runStatement} refuses a statement in which two parts use one name (a module
 *   contributes one part of each kind per statement).
 * - A part reads another module's CTE only by a name handed to it (`onlyWith`, `from.cte`): the
 *   publisher's CTE that returns a row when its change happened; it writes only what its module owns.
 * - Parts are for measured hot paths only, each naming its benchmark (`npm run bench:payments`);
 *   elsewhere a module calls the other's facade with the transaction's EntityManager.
 */
export interface StatementPart {
  ctes: Sql[];
  outputs: Sql[];
  written?(manager: EntityManager, result: Record<string, unknown>): void;
}

/**
 * One module's read inside a statement another module's query runs (e.g. the inputs of an account's
 * entitlement verdict, from five modules' tables in one round trip: `ComputeVerdictQuery`, on the webhook
 * hot path of `npm run bench:peers`): outputs only, each a scalar subquery named in the module's namespace
 * as a StatementPart's, and how to read the module's value back from the result row. The module's own
 * method runs its part alone ({@link readPart}), so that each read is written once.
 */
export interface ReadPart<T> extends StatementPart {
  read(result: Record<string, unknown>): T;
}

/** Runs one read part on its own: one round trip. */
export async function readPart<T>(manager: EntityManager, part: ReadPart<T>): Promise<T> {
  return part.read(await runStatement(manager, [part]));
}

/**
 * Entities from a JSON value of `row_to_json` objects (an array, one object, or null), each hydrated as
 * {@link hydrateRow} does: for a {@link ReadPart} that reads an entity's rows.
 */
export function hydrateJsonRows<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  value: unknown,
): T[] {
  const list = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
  return list.map((row) => hydrateRow(manager, entity, row as Record<string, unknown>));
}

/** `<module>__<name>`: the name of a CTE or output a module contributes to a composed statement. */
export function partName(module: string, name: string): string {
  return `${module}__${name}`;
}

const CTE_NAME = /^\s*"?(\w+)"?\s+AS\s*\(/i;
const OUTPUT_NAME = /\bAS\s+"?(\w+)"?\s*$/i;

/** Throws when two CTEs or two outputs of a composed statement have one name (see StatementPart). */
function checkPartNames(ctes: readonly Sql[], outputs: readonly Sql[]): void {
  for (const [kind, list, pattern, at] of [
    ['CTE', ctes, CTE_NAME, 0],
    ['output', outputs, OUTPUT_NAME, -1],
  ] as const) {
    const seen = new Set<string>();
    for (const part of list) {
      const name = pattern.exec(part.strings.at(at) ?? '')?.[1];
      if (name === undefined) continue;
      if (seen.has(name)) throw new Error(`two parts of one statement name the ${kind} ${name}`);
      seen.add(name);
    }
  }
}

/** `WITH <every part's CTEs> SELECT <every part's outputs>`: one round trip; then each part's `written`. */
export async function runStatement(
  manager: EntityManager,
  parts: readonly StatementPart[],
): Promise<Record<string, unknown>> {
  const ctes = parts.flatMap((p) => p.ctes);
  const outputs = parts.flatMap((p) => p.outputs);
  if (parts.length > 1) checkPartNames(ctes, outputs);
  let result: Record<string, unknown> | undefined = {};
  // Parts that only react to having been written cost no round trip.
  if (ctes.length > 0 || outputs.length > 0) {
    const select = sql`SELECT ${outputs.length > 0 ? join(outputs) : sql`1`}`;
    const statement = ctes.length > 0 ? sql`WITH ${join(ctes)} ${select}` : select;
    [result] = await queryRows<Record<string, unknown>>(manager, statement);
  }
  if (!result) throw new Error('a composed statement returned no row');
  for (const part of parts) part.written?.(manager, result);
  return result;
}
