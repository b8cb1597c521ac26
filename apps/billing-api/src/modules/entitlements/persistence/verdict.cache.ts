import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import { REDIS } from '../../../platform/redis/redis.module.js';
import type { EntitlementVerdict } from '../contracts/entitlement-verdict.js';

/** How long a cached verdict lives: a lost invalidation is corrected within this time. */
export const VERDICT_TTL_SECONDS = 60;
/** An account's generation outlives every entry that could carry it (entries live 60 s). */
const GENERATION_TTL_SECONDS = 24 * 60 * 60;

const GLOBAL_GENERATION = 'entitlements:gen:global';
const accountGeneration = (accountId: string): string => `entitlements:gen:${accountId}`;
const entryKey = (accountId: string): string => `entitlements:verdict:${accountId}`;

/** The generations a reader saw BEFORE it read the database; its entry carries them. */
export interface Generations {
  global: string;
  account: string;
}

export interface CachedVerdict {
  etag: string;
  verdict: EntitlementVerdict;
}

interface Entry extends CachedVerdict {
  g: string;
  a: string;
}

/**
 * Verdicts cached in Redis for 60 s, each carrying the generations (global and per account) read before
 * the database was: an invalidation replaces the generation after the change commits, so an entry
 * computed from the state before it (even one written after the invalidation, by a reader that was
 * slower than the commit) no longer matches and is never served. Every call may throw when Redis is
 * unreachable; callers fall back to the database.
 */
@Injectable()
export class VerdictCache {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** The current generations and the entry, when it matches them (one round trip). */
  async read(accountId: string): Promise<{ generations: Generations; hit: CachedVerdict | null }> {
    const [global, account, raw] = await this.redis.mget(
      GLOBAL_GENERATION,
      accountGeneration(accountId),
      entryKey(accountId),
    );
    const generations = { global: global ?? '0', account: account ?? '0' };
    if (!raw) return { generations, hit: null };
    const entry = JSON.parse(raw) as Entry;
    const current = entry.g === generations.global && entry.a === generations.account;
    return { generations, hit: current ? { etag: entry.etag, verdict: entry.verdict } : null };
  }

  /** Stores a verdict computed after `generations` were read. */
  async store(accountId: string, generations: Generations, cached: CachedVerdict): Promise<void> {
    const entry: Entry = { g: generations.global, a: generations.account, ...cached };
    await this.redis.set(entryKey(accountId), JSON.stringify(entry), 'EX', VERDICT_TTL_SECONDS);
  }

  /** After a change of the account committed: a new generation, and the entry gone. */
  async invalidate(accountId: string): Promise<void> {
    const results = await this.redis
      .multi()
      .set(accountGeneration(accountId), randomUUID(), 'EX', GENERATION_TTL_SECONDS)
      .del(entryKey(accountId))
      .exec();
    const failed = results?.find(([error]) => error !== null);
    if (!results || failed) throw failed?.[0] ?? new Error('the invalidation was not executed');
  }

  /** After a change that affects every account committed (the rollout percentage). */
  async invalidateAll(): Promise<void> {
    await this.redis.set(GLOBAL_GENERATION, randomUUID());
  }
}

/** A strong ETag of the verdict's JSON. */
export function verdictEtag(verdict: EntitlementVerdict): string {
  return `"${createHash('sha256').update(JSON.stringify(verdict)).digest('base64url').slice(0, 27)}"`;
}
