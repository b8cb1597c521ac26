import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../redis/redis.module.js';

/**
 * A lease takes at most 1/64 of what is left of a limit, so that tokens one instance holds and does not
 * use (its clients went to another instance) keep at most that share of the window from the others;
 * once fewer than 64 are left, one token per round trip, as a counter per request would. At most 100:
 * under a limit as high as the benches' one round trip per 100 requests.
 */
export const LEASE_DIVISOR = 64;
export const LEASE_MAX = 100;

/**
 * One atomic round trip that reserves tokens of fixed-window counters (one key per check and window):
 * for each key, a share of what is left of its limit, `floor(left / LEASE_DIVISOR)` clamped to
 * 1..LEASE_MAX and to what is left (0 when nothing is), in order and up to the first key with nothing
 * left (the request stops there: the keys after it are not reserved). Returns, per key reached, the
 * tokens granted and the counter after them. ARGV: the window in ms, then the limit of each key.
 */
const SCRIPT = `
local out = {}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[i + 1])
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  local left = limit - used
  local grant = 0
  if left > 0 then
    grant = math.floor(left / ${LEASE_DIVISOR})
    if grant > ${LEASE_MAX} then grant = ${LEASE_MAX} end
    if grant < 1 then grant = 1 end
    used = redis.call('INCRBY', KEYS[i], grant)
    if used == grant then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
  end
  out[i] = {grant, used}
  if grant == 0 then break end
end
return out
`;

export interface RateLimitCheck {
  /** The counter's name (e.g. `ip:203.0.113.9`); the window's number is appended. */
  key: string;
  limit: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** The limit that decided: the first one exceeded, else the last one checked. */
  limit: number;
  /**
   * Requests left in the window for the deciding counter as this instance knows it: what no instance
   * has reserved yet plus this instance's own reserve (another instance's unused reserve is not seen).
   */
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** One counter in one window, as this instance holds it. */
interface Bucket {
  /** Tokens reserved in Redis and not used yet by this instance. */
  tokens: number;
  /** The counter in Redis after this instance's last reservation (every instance's reservations). */
  used: number;
  /** Redis granted nothing: the limit is reached for the rest of the window. */
  exhausted: boolean;
  /** The reservation in flight for this bucket, which requests finding it empty wait for. */
  pending: Promise<void> | undefined;
  /** When the window ends (epoch ms): the bucket is dropped after it. */
  until: number;
}

/**
 * Rate-limit counters shared by every api instance through Redis (R-API-6): fixed windows, counted
 * in Redis, but reserved in leases (see SCRIPT) so that a request usually decides from this instance's
 * reserve without a round trip. The limits stay exact across instances: a request is admitted only on
 * a token Redis counted against the limit, so all instances together never admit more than the limit
 * in a window; a token one instance reserved and did not use can refuse a request another instance
 * could have admitted (at most 1/64 of what was left when it was reserved, see LEASE_DIVISOR).
 * Requests refused in a window that Redis reported full are refused here without a round trip.
 * When Redis is unreachable the limiter fails open: taking payments matters more than rate limiting.
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger('RateLimit');
  private lastWarning = 0;
  private readonly buckets = new Map<string, Bucket>();
  private nextSweep = 0;

  private readonly redis: Redis & {
    rateLimitLease(...args: (string | number)[]): Promise<[number, number][]>;
  };

  constructor(@Inject(REDIS) redis: Redis) {
    // ioredis sends the script by EVALSHA and loads it once when Redis does not know it.
    redis.defineCommand('rateLimitLease', { lua: SCRIPT });
    this.redis = redis as RateLimiter['redis'];
  }

  /**
   * Counts one hit against every check, in order, up to the first one over its limit (a request refused
   * by its IP limit does not count against its account). At most one Redis round trip per request, and
   * none while this instance holds tokens for every check.
   */
  async hit(
    checks: readonly RateLimitCheck[],
    windowMs: number,
    now = Date.now(),
  ): Promise<RateLimitDecision> {
    const last = checks[checks.length - 1];
    if (!last) throw new Error('no rate-limit checks');
    const window = Math.floor(now / windowMs);
    const until = (window + 1) * windowMs;
    const resetMs = Math.max(1, until - now);
    this.sweep(now);
    const keys = checks.map((c) => `ratelimit:${c.key}:${window}`);
    const buckets = keys.map((key) => this.bucket(key, until));
    for (let i = 0; i < checks.length; i++) {
      const bucket = buckets[i] as Bucket;
      const check = checks[i] as RateLimitCheck;
      while (bucket.tokens === 0 && !bucket.exhausted) {
        try {
          await this.reserve(keys, buckets, checks, i, windowMs);
        } catch (e) {
          this.warn(e);
          return { allowed: true, limit: last.limit, remaining: last.limit, resetMs };
        }
      }
      if (bucket.tokens === 0) {
        return { allowed: false, limit: check.limit, remaining: 0, resetMs };
      }
      bucket.tokens--;
    }
    const deciding = buckets[buckets.length - 1] as Bucket;
    return {
      allowed: true,
      limit: last.limit,
      remaining: Math.max(0, last.limit - deciding.used) + deciding.tokens,
      resetMs,
    };
  }

  /**
   * Reserves tokens for bucket `from` and, in the same round trip, for every later empty bucket of the
   * request that has no reservation in flight; resolves when `from` has its answer (from this call or
   * one already in flight).
   */
  private reserve(
    keys: readonly string[],
    buckets: readonly Bucket[],
    checks: readonly RateLimitCheck[],
    from: number,
    windowMs: number,
  ): Promise<void> {
    const first = buckets[from] as Bucket;
    if (first.pending) return first.pending;
    const wanted: number[] = [];
    for (let i = from; i < buckets.length; i++) {
      const b = buckets[i] as Bucket;
      if (i === from || (b.tokens === 0 && !b.exhausted && !b.pending)) wanted.push(i);
    }
    const call = this.redis
      .rateLimitLease(
        wanted.length,
        ...wanted.map((i) => keys[i] as string),
        String(windowMs),
        ...wanted.map((i) => String((checks[i] as RateLimitCheck).limit)),
      )
      .then((grants) => {
        wanted.forEach((i, n) => {
          const b = buckets[i] as Bucket;
          const grant = grants[n];
          if (!grant) return; // not reached: an earlier key had nothing left
          const [granted, used] = grant;
          b.tokens += granted;
          b.used = Math.max(b.used, used);
          if (granted === 0) b.exhausted = true;
        });
      })
      .finally(() => {
        for (const i of wanted) (buckets[i] as Bucket).pending = undefined;
      });
    for (const i of wanted) (buckets[i] as Bucket).pending = call;
    return call;
  }

  private bucket(key: string, until: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: 0, used: 0, exhausted: false, pending: undefined, until };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Drops the buckets of windows that have ended (at most once a second). */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 1000;
    for (const [key, bucket] of this.buckets) {
      if (bucket.until <= now && !bucket.pending) this.buckets.delete(key);
    }
  }

  private warn(e: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning > 10_000) {
      this.lastWarning = now;
      this.logger.warn(
        `rate limiting skipped, Redis unavailable: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
