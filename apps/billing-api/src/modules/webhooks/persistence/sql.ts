import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs raw SQL and returns the rows. TypeORM's postgres driver answers UPDATE/DELETE with
 * `[rows, rowCount]` and everything else with the rows; callers here only want the rows.
 */
export async function rows<T>(
  db: DataSource | EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result: unknown = await db.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
