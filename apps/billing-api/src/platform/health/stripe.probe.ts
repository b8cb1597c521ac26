import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../clock/clock.js';
import { AppConfig } from '../config/app-config.js';
import { StripeGateway } from '../stripe/stripe.gateway.js';

/** The last answer of the probe. */
export interface StripeReachability {
  status: 'up' | 'down';
  checkedAt: string;
  latencyMs: number;
  message?: string;
}

/**
 * Stripe reachability for readiness (R-OPS-1), from a cached probe: one cheap authenticated call
 * (`GET /v1/customers?limit=1`) every STRIPE_PROBE_INTERVAL_MS, bounded by STRIPE_PROBE_TIMEOUT_MS.
 * Readiness reads the cached answer, so a slow Stripe never slows `/health/ready` beyond the first
 * probe, and liveness (`/health`) never looks at Stripe at all. The probe starts with the first
 * readiness request (processes nobody asks do not call Stripe).
 */
@Injectable()
export class StripeProbe implements OnApplicationShutdown {
  private last: StripeReachability | null = null;
  private running: Promise<StripeReachability> | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly gateway: StripeGateway,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The cached answer; the first call waits for the first probe (at most the probe timeout). */
  async current(): Promise<StripeReachability> {
    if (!this.timer) {
      this.timer = setInterval(() => void this.probe(), this.config.stripeProbe.intervalMs);
      this.timer.unref();
    }
    return this.last ?? this.probe();
  }

  /** Runs one probe now (one at a time) and caches its answer. */
  probe(): Promise<StripeReachability> {
    this.running ??= this.ask().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async ask(): Promise<StripeReachability> {
    const started = performance.now();
    const timeoutMs = this.config.stripeProbe.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    let answer: StripeReachability;
    try {
      await Promise.race([
        this.gateway.call('health.probe', (stripe) => stripe.customers.list({ limit: 1 })),
        timeout,
      ]);
      answer = { status: 'up', checkedAt: '', latencyMs: 0 };
    } catch (error) {
      answer = {
        status: 'down',
        checkedAt: '',
        latencyMs: 0,
        message: error instanceof Error ? error.message.slice(0, 200) : 'unreachable',
      };
    } finally {
      clearTimeout(timer);
    }
    answer.checkedAt = this.clock.now().toISOString();
    answer.latencyMs = Math.round(performance.now() - started);
    this.last = answer;
    return answer;
  }
}
