import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../../../platform/http/api-error.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import type { EntitlementVerdict } from '../contracts/entitlement-verdict.js';
import {
  type CachedVerdict,
  type Generations,
  VerdictCache,
  verdictEtag,
} from '../persistence/verdict.cache.js';
import { ComputeVerdictQuery, failOpenVerdict } from './compute-verdict.query.js';

/** Bounds a read of Redis or PostgreSQL: past it the state is uncertain and access is granted. */
const CACHE_TIMEOUT_MS = 500;
const DATABASE_TIMEOUT_MS = 2000;

/**
 * The verdict of `GET /v1/accounts/{id}/entitlements`: from the cache when its entry is current, else
 * computed and cached. Never fails for want of Redis or PostgreSQL (R-CORE-5): without Redis it computes;
 * without PostgreSQL it answers the fail-open verdict (not cached). 404 only when the database says the
 * account does not exist.
 */
@Injectable()
export class GetVerdictQuery {
  private readonly logger = new Logger('Entitlements');

  constructor(
    private readonly cache: VerdictCache,
    private readonly compute: ComputeVerdictQuery,
    private readonly catalog: CatalogFacade,
  ) {}

  async execute(accountId: string): Promise<CachedVerdict & { cached: boolean }> {
    let generations: Generations | null = null;
    try {
      const read = await within(this.cache.read(accountId), CACHE_TIMEOUT_MS);
      if (read.hit) return { ...read.hit, cached: true };
      generations = read.generations;
    } catch (e) {
      this.warn('cache unreachable; computing', e);
    }
    let verdict: EntitlementVerdict | null;
    try {
      verdict = await within(this.compute.execute(accountId), DATABASE_TIMEOUT_MS);
    } catch (e) {
      this.warn('database unreachable; access granted (fail open)', e);
      const open = failOpenVerdict(this.catalog.catalogue(), accountId, 'state_unavailable');
      return { verdict: open, etag: verdictEtag(open), cached: false };
    }
    if (!verdict) throw new ApiError('not_found', 'The resource was not found.');
    const result = { verdict, etag: verdictEtag(verdict) };
    // An uncertain verdict is not cached: the next request asks again.
    if (generations && verdict.basis !== 'fail_open') {
      await within(this.cache.store(accountId, generations, result), CACHE_TIMEOUT_MS).catch((e: unknown) =>
        this.warn('verdict not cached', e),
      );
    }
    return { ...result, cached: false };
  }

  private warn(msg: string, e: unknown): void {
    this.logger.warn({ msg, error: e instanceof Error ? e.message : String(e) });
  }
}

/** The promise, or a rejection once `ms` passed (the late result is dropped, its failure ignored). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
