import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../redis/redis.module.js';

// One atomic round trip per check: a fixed-window counter per key and window.
const SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {hits, redis.call('PTTL', KEYS[1])}
`;

export interface RateLimitDecision {
  allowed: boolean;
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

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    try {
      const [hits, ttl] = (await this.redis.eval(SCRIPT, 1, `ratelimit:${key}`, String(windowMs))) as [
        number,
        number,
      ];
      return {
        allowed: hits <= limit,
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
      return { allowed: true, remaining: limit, resetMs: windowMs };
    }
  }
}
