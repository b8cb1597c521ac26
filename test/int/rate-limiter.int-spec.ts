import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import {
  LEASE_DIVISOR,
  RateLimiter,
  type RateLimitDecision,
} from '../../apps/billing-api/src/platform/http/rate-limiter.js';
import { PrivateRedis } from '../support/private-redis.js';
import { TEST_REDIS_URL } from '../support/test-env.js';

/**
 * The rate limiter's leases (R-API-6) on the real Redis, with two limiters on two connections standing
 * for two api processes: together they never admit more than the limit in a window, and once both have
 * refused, exactly the limit was admitted (no reserved token is lost while its instance keeps serving).
 */
describe('rate limiter: leases shared through Redis', () => {
  const WINDOW = 60_000;
  // The middle of a window, so that no test crosses into the next one.
  const now = (Math.floor(Date.now() / WINDOW) + 0.5) * WINDOW;
  let redisA: Redis;
  let redisB: Redis;
  let a: RateLimiter;
  let b: RateLimiter;

  beforeAll(() => {
    redisA = new Redis(TEST_REDIS_URL);
    redisB = new Redis(TEST_REDIS_URL);
    a = new RateLimiter(redisA);
    b = new RateLimiter(redisB);
  });
  afterAll(async () => {
    await Promise.all([redisA.quit(), redisB.quit()]);
  });

  const counter = async (key: string): Promise<number> =>
    Number((await redisA.get(`ratelimit:${key}:${Math.floor(now / WINDOW)}`)) ?? 0);

  it('admits exactly the limit across two instances under concurrent load, and refuses the rest', async () => {
    const limit = 5_000; // leases of up to 78 tokens: most requests decide without Redis
    const key = `account:${randomUUID()}`;
    const decisions: RateLimitDecision[] = [];
    // Bursts of 100 concurrent requests, alternately on each instance, until both have refused.
    const refused = { a: false, b: false };
    for (let round = 0; !(refused.a && refused.b) && round < 200; round++) {
      const limiter = round % 2 === 0 ? a : b;
      const burst = await Promise.all(
        Array.from({ length: 100 }, () => limiter.hit([{ key, limit }], WINDOW, now)),
      );
      decisions.push(...burst);
      if (burst.some((d) => !d.allowed)) refused[round % 2 === 0 ? 'a' : 'b'] = true;
    }
    expect(refused).toEqual({ a: true, b: true });
    expect(decisions.filter((d) => d.allowed)).toHaveLength(limit);
    // Redis counted exactly the tokens handed out: none reserved and left unused.
    expect(await counter(key)).toBe(limit);
    // After both refused, every later request is refused on both, without another reservation.
    const later = await Promise.all([a, b, a, b].map((l) => l.hit([{ key, limit }], WINDOW, now)));
    expect(later.map((d) => d.allowed)).toEqual([false, false, false, false]);
    expect(await counter(key)).toBe(limit);
    const refusal = later[0] as RateLimitDecision;
    expect(refusal).toMatchObject({ limit, remaining: 0 });
    expect(refusal.resetMs).toBe(WINDOW / 2);
  });

  it('never admits more than the limit while both instances serve at once', async () => {
    const limit = 1_000;
    const key = `ip:${randomUUID()}`;
    const all = await Promise.all(
      Array.from({ length: 1_500 }, (_, i) => (i % 2 === 0 ? a : b).hit([{ key, limit }], WINDOW, now)),
    );
    const admitted = all.filter((d) => d.allowed).length;
    expect(admitted).toBeLessThanOrEqual(limit);
    // What an instance may hold back from the other is bounded by one lease (1/64 of what was left).
    expect(admitted).toBeGreaterThanOrEqual(limit - Math.ceil(limit / LEASE_DIVISOR));
    expect(await counter(key)).toBeLessThanOrEqual(limit);
  });

  it('goes to Redis once per lease, not once per request', async () => {
    const limit = 100_000; // leases of 100
    const key = `account:${randomUUID()}`;
    for (let i = 0; i < 250; i++) expect((await a.hit([{ key, limit }], WINDOW, now)).allowed).toBe(true);
    // 250 requests took three leases of 100: Redis counted 300, of which 50 are still a's reserve.
    expect(await counter(key)).toBe(300);
    const d = await a.hit([{ key, limit }], WINDOW, now);
    expect(d).toMatchObject({ allowed: true, limit, remaining: limit - 300 + 49 });
  });

  it('with tight limits counts request by request, as a counter per request would', async () => {
    const limit = 6;
    const key = `account:${randomUUID()}`;
    const allowed: boolean[] = [];
    for (let i = 0; i < 8; i++)
      allowed.push((await (i % 2 ? b : a).hit([{ key, limit }], WINDOW, now)).allowed);
    expect(allowed).toEqual([true, true, true, true, true, true, false, false]);
    expect(await counter(key)).toBe(limit);
  });

  it('stops at the first limit exceeded: a request refused by its IP does not count against its account', async () => {
    const ip = { key: `ip:${randomUUID()}`, limit: 2 };
    const account = { key: `account:${randomUUID()}`, limit: 3 };
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await a.hit([ip, account], WINDOW, now));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false, false, false]);
    expect(decisions[2]).toMatchObject({ limit: 2, remaining: 0 });
    // The account admitted two and was not reserved for the refused ones: one more, then refused.
    const elsewhere = { key: `ip:${randomUUID()}`, limit: 100 };
    const more = [
      await b.hit([elsewhere, account], WINDOW, now),
      await a.hit([elsewhere, account], WINDOW, now),
    ];
    expect(more.map((d) => d.allowed)).toEqual([true, false]);
    expect(await counter(account.key)).toBe(3);
  });

  it('starts a new window afresh', async () => {
    const limit = 3;
    const key = `account:${randomUUID()}`;
    for (let i = 0; i < 4; i++) await a.hit([{ key, limit }], WINDOW, now);
    expect((await a.hit([{ key, limit }], WINDOW, now)).allowed).toBe(false);
    const next = await a.hit([{ key, limit }], WINDOW, now + WINDOW);
    expect(next).toMatchObject({ allowed: true, limit, remaining: 2 });
  });

  it('fails open while Redis is unreachable', async () => {
    const redis = await PrivateRedis.start();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    client.on('error', () => undefined); // the refused connections while it is down
    try {
      if (client.status !== 'ready') await once(client, 'ready');
      const limiter = new RateLimiter(client);
      const key = `account:${randomUUID()}`;
      expect((await limiter.hit([{ key, limit: 1 }], WINDOW, now)).allowed).toBe(true);
      expect((await limiter.hit([{ key, limit: 1 }], WINDOW, now)).allowed).toBe(false);
      await redis.kill();
      const other = `account:${randomUUID()}`;
      expect((await limiter.hit([{ key: other, limit: 1 }], WINDOW, now)).allowed).toBe(true);
      expect((await limiter.hit([{ key: other, limit: 1 }], WINDOW, now)).allowed).toBe(true);
    } finally {
      client.disconnect();
      await redis.kill();
    }
  });
});
