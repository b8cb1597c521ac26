/** Injection token of the configured {@link Catalogue} (read from CATALOG_PATH at start-up). */
export const CATALOGUE = Symbol('CATALOGUE');
