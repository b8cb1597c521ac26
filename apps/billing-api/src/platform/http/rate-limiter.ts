import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../redis/redis.module.js';

// One atomic round trip for all of a request's checks: a fixed-window counter per key, taken in order
// and stopping at the first key over its limit (a request refused by its IP limit does not count
// against its account). Returns the index of the deciding key, its hits and its remaining TTL.
const SCRIPT = `
local last = 0
local hits = 0
for i = 1, #KEYS do
  last = i
  hits = redis.call('INCR', KEYS[i])
  if hits == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
  if hits > tonumber(ARGV[i + 1]) then break end
end
return {last, hits, redis.call('PTTL', KEYS[last])}
`;

export interface RateLimitCheck {
  key: string;
  limit: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** The limit that decided: the first one exceeded, else the last one checked. */
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/**
 * Rate-limit counters shared by every api instance through Redis (R-API-6). When Redis is unreachable
 * the limiter fails open: taking payments matters more than rate limiting.
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger('RateLimit');
  private lastWarning = 0;

  private readonly redis: Redis & {
    rateLimitHit(...args: (string | number)[]): Promise<[number, number, number]>;
  };

  constructor(@Inject(REDIS) redis: Redis) {
    // ioredis sends the script by EVALSHA and loads it once when Redis does not know it.
    redis.defineCommand('rateLimitHit', { lua: SCRIPT });
    this.redis = redis as RateLimiter['redis'];
  }

  /** Counts one hit against every check (in order, up to the first exceeded) in one Redis call. */
  async hit(checks: readonly RateLimitCheck[], windowMs: number): Promise<RateLimitDecision> {
    const last = checks[checks.length - 1];
    if (!last) throw new Error('no rate-limit checks');
    try {
      const [index, hits, ttl] = await this.redis.rateLimitHit(
        checks.length,
        ...checks.map((c) => `ratelimit:${c.key}`),
        String(windowMs),
        ...checks.map((c) => String(c.limit)),
      );
      const limit = checks[index - 1]?.limit ?? last.limit;
      return {
        allowed: hits <= limit,
        limit,
        remaining: Math.max(0, limit - hits),
        resetMs: ttl > 0 ? ttl : windowMs,
      };
    } catch (e) {
      const now = Date.now();
      if (now - this.lastWarning > 10_000) {
        this.lastWarning = now;
        this.logger.warn(
          `rate limiting skipped, Redis unavailable: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      return { allowed: true, limit: last.limit, remaining: last.limit, resetMs: windowMs };
    }
  }
}
