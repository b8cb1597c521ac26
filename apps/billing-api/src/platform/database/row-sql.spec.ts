import { describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import { partName, raw, runStatement, sql, type StatementPart } from './row-sql.js';

// The StatementPart contract: parts of different modules meet in one statement only under names of
// their own modules; two parts with one name are refused before anything is sent.
describe('runStatement part names', () => {
  // Never reached: the statement is refused before it would be sent.
  const manager = {} as EntityManager;
  const part = (module: string, name: string): StatementPart => ({
    ctes: [sql`${raw(partName(module, name))} AS (SELECT ${1} AS id)`],
    outputs: [sql`(SELECT id FROM ${raw(partName(module, name))}) AS ${raw(partName(module, `${name}_id`))}`],
  });

  it('names a part in its module', () => {
    expect(partName('receipts', 'issued')).toBe('receipts__issued');
  });

  it('refuses two parts that name one CTE', async () => {
    await expect(
      runStatement(manager, [part('receipts', 'issued'), part('receipts', 'issued')]),
    ).rejects.toThrow('two parts of one statement name the CTE receipts__issued');
  });

  it('refuses two parts that name one output', async () => {
    const other: StatementPart = {
      ctes: [],
      outputs: [sql`(SELECT 2) AS receipts__issued_id`],
    };
    await expect(runStatement(manager, [part('receipts', 'issued'), other])).rejects.toThrow(
      'two parts of one statement name the output receipts__issued_id',
    );
  });
});
