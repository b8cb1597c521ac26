import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';

/** Connection options shared by the app, the migration CLI and the test setup. `synchronize` is never on. */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    extra: { max: Math.max(poolSize, 2) },
    applicationName: 'billing-service',
  };
}

// An arbitrary constant: every process that migrates takes this lock, so concurrent starts are safe.
const MIGRATION_LOCK_ID = 748_211_903;

/**
 * Runs pending migrations under a PostgreSQL advisory lock: with several api and worker processes
 * starting at once (R-ARCH-4), exactly one migrates and the others wait, then find nothing to do.
 */
export async function runMigrationsLocked(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const done = await ds.runMigrations({ transaction: 'all' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await runner.release();
  }
}

export async function openDataSource(url: string): Promise<DataSource> {
  return new DataSource(dataSourceOptions(url, 2)).initialize();
}
