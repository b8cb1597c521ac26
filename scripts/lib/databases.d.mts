/** Creates the database named in the URL when it does not exist yet (another process may race it). */
export function ensureDatabase(databaseUrl: string): Promise<void>;

/**
 * Drops the database named in the URL (closing its connections) and creates it empty; `alsoDropLike`
 * (a LIKE pattern) drops other databases with it.
 */
export function recreateDatabase(databaseUrl: string, options?: { alsoDropLike?: string }): Promise<void>;
