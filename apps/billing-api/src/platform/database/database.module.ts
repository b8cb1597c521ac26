import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { AfterCommit } from './after-commit.js';
import { BeforeCommit } from './before-commit.js';
import { dataSourceOptions, runMigrationsLocked } from './data-source.js';
import { withoutPreparedStatements } from './row-sql.js';

/**
 * PostgreSQL through TypeORM. Entities are registered by their modules (`TypeOrmModule.forFeature`);
 * when `DB_MIGRATE` is on, migrations run under an advisory lock before anything can use the connection.
 * `DB_PREPARED_STATEMENTS=false` runs the raw statements unnamed (see row-sql.ts `rows`).
 * {@link AfterCommit} (work that waits for the caller's transaction to commit) and {@link BeforeCommit}
 * (work done once per transaction, just before its commit) are available everywhere.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.database.url, config.database.poolSize),
        // Read by the factory below; TypeORM's own unlocked run is never used.
        migrationsRun: config.database.migrate,
        autoLoadEntities: true,
        retryAttempts: 2,
        retryDelay: 500,
      }),
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('missing data source options');
        const ds = await new DataSource({ ...options, migrationsRun: false }).initialize();
        if (options.migrationsRun) await runMigrationsLocked(ds);
        return ds;
      },
    }),
  ],
  providers: [AfterCommit, BeforeCommit],
  exports: [AfterCommit, BeforeCommit],
})
export class DatabaseModule {
  constructor(db: DataSource, config: AppConfig) {
    if (!config.database.preparedStatements) withoutPreparedStatements(db);
  }
}
