import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/auth.decorators.js';
import { AppConfig } from '../config/app-config.js';
import { ApiError } from './api-error.js';
import { type RateLimitCheck, RateLimiter } from './rate-limiter.js';

export const SKIP_RATE_LIMIT = 'billing:skip-rate-limit';
/** For health probes and Stripe's webhook deliveries, which must never be turned away. */
export const SkipRateLimit = (): MethodDecorator & ClassDecorator => SetMetadata(SKIP_RATE_LIMIT, true);

const WINDOW_MS = 60_000;

/**
 * Per-IP and per-account request limits per minute (R-API-6), counted in Redis so that every api
 * instance shares them (reserved in leases: see RateLimiter). Written here instead of using
 * @nestjs/throttler: throttler 6 is CommonJS that requires the ESM-only @nestjs/common 12, which Node
 * accepts but Jest's module runtime on Node 20 does not, so the guard could not be exercised by our
 * tests.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (
      this.reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT, [context.getHandler(), context.getClass()])
    )
      return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const checks: RateLimitCheck[] = [{ key: `ip:${request.ip}`, limit: this.config.rateLimit.ipPerMinute }];
    const principal = request.principal;
    if (principal) {
      const subject = principal.accountId ?? `user:${principal.userId}`;
      checks.push({ key: `account:${subject}`, limit: this.config.rateLimit.accountPerMinute });
    }
    const decision = await this.limiter.hit(checks, WINDOW_MS);
    void reply.header('x-ratelimit-limit', String(decision.limit));
    void reply.header('x-ratelimit-remaining', String(decision.remaining));
    if (!decision.allowed) {
      void reply.header('retry-after', String(Math.ceil(decision.resetMs / 1000)));
      throw new ApiError(
        'rate_limited',
        'Too many requests; slow down and retry after the time in Retry-After.',
      );
    }
    return true;
  }
}
