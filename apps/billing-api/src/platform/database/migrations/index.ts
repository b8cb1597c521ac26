import { Foundation1763780000000 } from './1763780000000-foundation.js';

/**
 * Every migration, in order. Listed explicitly (not globbed) so that the compiled app, the CLI and the
 * test setup run exactly the same set (R-ARCH-5).
 */
export const MIGRATIONS = [Foundation1763780000000];
