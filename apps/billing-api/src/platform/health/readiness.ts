import { Injectable } from '@nestjs/common';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config.js';
import { RedisHealthIndicator } from './redis.health.js';
import { type StripeReachability, StripeProbe } from './stripe.probe.js';

export interface ReadinessReport {
  ok: boolean;
  /** Terminus's shape: `status` (ok / error), `info` (up), `error` (down), `details` (all). */
  body: { status: string; info?: unknown; error?: unknown; details: Record<string, unknown> };
}

/**
 * Readiness (R-OPS-1): PostgreSQL and Redis answer (terminus), plus Stripe from the cached probe. Stripe
 * fails readiness only with STRIPE_PROBE_REQUIRED; otherwise it is reported as it is. Shared by the
 * api's `/health/ready` and the worker's health port.
 */
@Injectable()
export class Readiness {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly stripe: StripeProbe,
    private readonly config: AppConfig,
  ) {}

  /** The dependencies' checks; `ok` false when one that counts is down. */
  async check(): Promise<ReadinessReport> {
    const stripe = await this.stripe.current();
    const stripeEntry = { stripe: stripeDetails(stripe) };
    const stripeFails = stripe.status === 'down' && this.config.stripeProbe.required;
    try {
      const result = await this.health.check([
        () => this.db.pingCheck('database', { timeout: 1500 }),
        () => this.redis.pingCheck('redis', 1000),
      ]);
      const body = {
        ...result,
        ...(stripeFails ? { status: 'error' as const } : {}),
        info: { ...result.info, ...(stripeFails ? {} : stripeEntry) },
        ...(stripeFails ? { error: { ...result.error, ...stripeEntry } } : {}),
        details: { ...result.details, ...stripeEntry },
      };
      return { ok: !stripeFails, body };
    } catch (error) {
      // Terminus throws a ServiceUnavailableException whose response is the result.
      const response = (error as { getResponse?: () => unknown }).getResponse?.() as
        | {
            details?: Record<string, unknown>;
            info?: Record<string, unknown>;
            error?: Record<string, unknown>;
          }
        | undefined;
      if (!response) throw error;
      return {
        ok: false,
        body: {
          status: 'error',
          info: { ...response.info, ...(stripeFails ? {} : stripeEntry) },
          error: { ...response.error, ...(stripeFails ? stripeEntry : {}) },
          details: { ...response.details, ...stripeEntry },
        },
      };
    }
  }
}

function stripeDetails(answer: StripeReachability): Record<string, unknown> {
  return {
    status: answer.status,
    checkedAt: answer.checkedAt,
    latencyMs: answer.latencyMs,
    ...(answer.message ? { message: answer.message } : {}),
  };
}
