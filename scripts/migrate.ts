/**
 * Schema changes only by migrations (R-ARCH-5):
 *   npm run migration:run       apply pending migrations (under the same advisory lock the app uses)
 *   npm run migration:revert    undo the last one
 *   npm run migration:show      list applied and pending
 *   npm run migration:generate -- <Name>   write a migration for the difference between the entities and
 *                                          the database (review it; then list it in migrations/index.ts)
 */
import { existsSync, writeFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import {
  dataSourceOptions,
  runMigrationsLocked,
} from '../apps/billing-api/src/platform/database/data-source.js';
import { validateEnvironment } from '../apps/billing-api/src/platform/config/environment.js';

const USAGE = `Usage: node dist/scripts/migrate.js <command>   (npm run migration:<command>, which builds first)

Schema changes of the database of DATABASE_URL (from the environment or .env):
  run               apply the pending migrations (under the advisory lock the service takes)
  revert            undo the last applied migration
  show              say whether migrations are pending
  generate <Name>   write a migration for the difference between the entities and the database
  -h, --help        this text`;

const [command = 'run', name] = process.argv.slice(2);
if (['-h', '--help', 'help'].includes(command)) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!['run', 'revert', 'show', 'generate'].includes(command)) {
  process.stderr.write(`unknown command ${command}\n\n${USAGE}\n`);
  process.exit(2);
}
if (existsSync('.env')) process.loadEnvFile('.env');
const env = validateEnvironment(process.env);

const ds = new DataSource({
  ...dataSourceOptions(env.DATABASE_URL, 2),
  // Compiled entities, for `generate` only.
  entities: ['dist/apps/billing-api/src/modules/**/persistence/*.orm-entity.js'],
});
await ds.initialize();
try {
  switch (command) {
    case 'run': {
      const done = await runMigrationsLocked(ds);
      process.stdout.write(done.length ? `applied: ${done.join(', ')}\n` : 'nothing to apply\n');
      break;
    }
    case 'revert':
      await ds.undoLastMigration({ transaction: 'all' });
      process.stdout.write('reverted the last migration\n');
      break;
    case 'show': {
      const pending = await ds.showMigrations();
      process.stdout.write(pending ? 'there are pending migrations\n' : 'all migrations applied\n');
      break;
    }
    case 'generate': {
      if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name))
        throw new Error('usage: migration:generate -- <Name>');
      const sql = await ds.driver.createSchemaBuilder().log();
      if (sql.upQueries.length === 0) {
        process.stdout.write('no changes between the entities and the database\n');
        break;
      }
      const stamp = Date.now();
      const q = (s: string): string => `    await q.query(${JSON.stringify(s)});`;
      const file = `apps/billing-api/src/platform/database/migrations/${stamp}-${name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.ts`;
      writeFileSync(
        file,
        `import type { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${name}${stamp} implements MigrationInterface {\n  name = '${name}${stamp}';\n\n  async up(q: QueryRunner): Promise<void> {\n${sql.upQueries.map((x) => q(x.query)).join('\n')}\n  }\n\n  async down(q: QueryRunner): Promise<void> {\n${sql.downQueries
          .reverse()
          .map((x) => q(x.query))
          .join('\n')}\n  }\n}\n`,
      );
      process.stdout.write(`wrote ${file}: review it and add it to migrations/index.ts\n`);
      break;
    }
    default:
      throw new Error(`unknown command ${command}: run | revert | show | generate <Name>`);
  }
} finally {
  await ds.destroy();
}
