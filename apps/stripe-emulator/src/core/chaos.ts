/**
 * Chaos switches. API side: a failure rate (500 `api_error`), added latency (fixed, or spread evenly
 * around its mean, as a real Stripe's answers vary), 429 injection. Webhook
 * side: duplicate-delivery probability, a reordering window (random extra delay) and a fixed delay.
 * Rates are probabilities in [0, 1]; times are milliseconds.
 */
export interface ChaosSettings {
  failureRate: number;
  latencyMs: number;
  /** Each call's added latency is drawn evenly from latencyMs ± this (never below 0). */
  latencySpreadMs: number;
  rateLimitRate: number;
  webhookDuplicateRate: number;
  webhookReorderWindowMs: number;
  webhookDelayMs: number;
  /**
   * Probability that an API call's response is lost after the emulator committed it: the connection is
   * destroyed instead of answered (the client sees a network error, the object exists).
   */
  lostResponseRate: number;
  /** Probability that an event is never delivered to any endpoint (a lost webhook; it stays listable). */
  webhookDropRate: number;
}

export const NO_CHAOS: Readonly<ChaosSettings> = Object.freeze({
  failureRate: 0,
  latencyMs: 0,
  latencySpreadMs: 0,
  rateLimitRate: 0,
  webhookDuplicateRate: 0,
  webhookReorderWindowMs: 0,
  webhookDelayMs: 0,
  lostResponseRate: 0,
  webhookDropRate: 0,
});

/** Environment variable for each switch. */
export const CHAOS_ENV: Readonly<Record<keyof ChaosSettings, string>> = Object.freeze({
  failureRate: 'STRIPE_EMULATOR_FAILURE_RATE',
  latencyMs: 'STRIPE_EMULATOR_LATENCY_MS',
  latencySpreadMs: 'STRIPE_EMULATOR_LATENCY_SPREAD_MS',
  rateLimitRate: 'STRIPE_EMULATOR_RATE_LIMIT_RATE',
  webhookDuplicateRate: 'STRIPE_EMULATOR_WEBHOOK_DUPLICATE_RATE',
  webhookReorderWindowMs: 'STRIPE_EMULATOR_WEBHOOK_REORDER_MS',
  webhookDelayMs: 'STRIPE_EMULATOR_WEBHOOK_DELAY_MS',
  lostResponseRate: 'STRIPE_EMULATOR_LOST_RESPONSE_RATE',
  webhookDropRate: 'STRIPE_EMULATOR_WEBHOOK_DROP_RATE',
});

const RATES: ReadonlySet<keyof ChaosSettings> = new Set([
  'failureRate',
  'rateLimitRate',
  'webhookDuplicateRate',
  'lostResponseRate',
  'webhookDropRate',
]);

/** Validates one value; throws a message suitable for a 400 on the admin API. */
export function checkChaosValue(name: keyof ChaosSettings, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  if (RATES.has(name) && value > 1) throw new Error(`${name} is a probability between 0 and 1`);
  if (!RATES.has(name) && value > 600_000) throw new Error(`${name} is at most 600000 ms`);
  return value;
}

function checkCount(name: string, count: number): number {
  if (!Number.isSafeInteger(count) || count < 0 || count > 1000) {
    throw new Error(`${name} is a whole number of calls from 0 to 1000`);
  }
  return count;
}

export function chaosFromEnv(env: NodeJS.ProcessEnv = process.env): ChaosSettings {
  const settings: ChaosSettings = { ...NO_CHAOS };
  for (const name of Object.keys(CHAOS_ENV) as (keyof ChaosSettings)[]) {
    const raw = env[CHAOS_ENV[name]];
    if (raw !== undefined && raw !== '') settings[name] = checkChaosValue(name, Number(raw));
  }
  return settings;
}

/** Mutable chaos state of one running emulator. `random` is injectable so tests can be exact. */
export class Chaos {
  settings: ChaosSettings;

  constructor(
    initial: Partial<ChaosSettings> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.settings = { ...NO_CHAOS };
    this.update(initial);
  }

  update(patch: Partial<Record<keyof ChaosSettings, unknown>>): ChaosSettings {
    const next = { ...this.settings };
    for (const name of Object.keys(NO_CHAOS) as (keyof ChaosSettings)[]) {
      const value = patch[name];
      if (value === undefined || value === '') continue;
      next[name] = checkChaosValue(name, typeof value === 'number' ? value : Number(value));
    }
    this.settings = next;
    return next;
  }

  /** API calls still to fail, one each, whatever `failureRate` says (`failNext`). */
  private failuresLeft = 0;

  /** API responses still to lose, one each, after their call committed (`loseNext`). */
  private lossesLeft = 0;
  /** Events still to drop, one each, instead of delivering them (`dropNextWebhooks`). */
  private dropsLeft = 0;

  reset(): void {
    this.settings = { ...NO_CHAOS };
    this.failuresLeft = 0;
    this.lossesLeft = 0;
    this.dropsLeft = 0;
  }

  /** The next `count` API calls run and commit, and then their responses are lost (connection reset). */
  loseNext(count: number): void {
    this.lossesLeft = checkCount('loseNext', count);
  }

  /** The next `count` events are stored but never delivered. */
  dropNextWebhooks(count: number): void {
    this.dropsLeft = checkCount('dropNextWebhooks', count);
  }

  get pendingLosses(): number {
    return this.lossesLeft;
  }

  get pendingDrops(): number {
    return this.dropsLeft;
  }

  /** Draws for one committed API call: true when its response must be lost. */
  responseLost(): boolean {
    if (this.lossesLeft > 0) {
      this.lossesLeft -= 1;
      return true;
    }
    return this.roll(this.settings.lostResponseRate);
  }

  /** Draws for one event: true when it must not be delivered. */
  webhookDropped(): boolean {
    if (this.dropsLeft > 0) {
      this.dropsLeft -= 1;
      return true;
    }
    return this.roll(this.settings.webhookDropRate);
  }

  /** The next `count` API calls fail with a 500 before running, and then calls pass again. */
  failNext(count: number): void {
    this.failuresLeft = checkCount('failNext', count);
  }

  /** How many calls `failNext` has still to fail. */
  get pendingFailures(): number {
    return this.failuresLeft;
  }

  /** Draws for one API call: true when it must fail (a pending `failNext`, else `failureRate`). */
  callFails(): boolean {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      return true;
    }
    return this.roll(this.settings.failureRate);
  }

  /** Draws: true with the given probability (0 never, 1 always). */
  roll(probability: number): boolean {
    if (probability <= 0) return false;
    if (probability >= 1) return true;
    return this.random() < probability;
  }

  /**
   * The latency to add to one API call: `latencyMs`, or with a spread a whole number of ms drawn evenly
   * from latencyMs - spread to latencyMs + spread, at least 0. Constant latency makes concurrent
   * clients move in lockstep (every answer arrives at once); a spread keeps them apart, as real
   * network and processing times do.
   */
  apiLatency(): number {
    const { latencyMs, latencySpreadMs } = this.settings;
    if (latencySpreadMs <= 0) return latencyMs;
    return Math.max(0, latencyMs - latencySpreadMs + this.jitter(2 * latencySpreadMs));
  }

  /** Uniform integer in [0, max]. */
  jitter(max: number): number {
    return max > 0 ? Math.floor(this.random() * (max + 1)) : 0;
  }
}
