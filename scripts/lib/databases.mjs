// Creating PostgreSQL databases, for start.mjs, smoke.mjs, the test setup and the test files: plain
// JavaScript so that it runs before anything is built and outside Jest's module system (types in
// databases.d.mts). `pg` is loaded on first use: start.mjs imports this before it installs packages.

/** The database name of a postgres:// URL, refused unless it is a plain identifier. */
function databaseName(databaseUrl) {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`unsupported database name ${name}`);
  return name;
}

/** Runs `work` with a client of the server's `postgres` database. */
async function withAdminClient(databaseUrl, work) {
  const { default: pg } = await import('pg');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates the database named in the URL when it does not exist yet (another process may race it). */
export async function ensureDatabase(databaseUrl) {
  const name = databaseName(databaseUrl);
  await withAdminClient(databaseUrl, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount !== 0) return;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } catch (error) {
      // 42P04 duplicate_database: created by the other one meanwhile.
      if (error?.code !== '42P04') throw error;
    }
  });
}

/**
 * Drops the database named in the URL (closing its connections) and creates it empty; `alsoDropLike`
 * (a LIKE pattern) drops other databases with it, e.g. the per-file test databases of an earlier run.
 */
export async function recreateDatabase(databaseUrl, { alsoDropLike } = {}) {
  const name = databaseName(databaseUrl);
  await withAdminClient(databaseUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
    if (!alsoDropLike) return;
    const old = await client.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [alsoDropLike]);
    for (const row of old.rows) await client.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
  });
}
