import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import type { AuthenticatedRequest } from '../auth/auth.decorators.js';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { AppConfig } from '../config/app-config.js';
import { REDIS } from '../redis/redis.module.js';
import { CardDataGuard } from './card-data.guard.js';
import { HttpExceptionFilter } from './http-exception.filter.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';
import { createValidationPipe } from './validation.js';

const MINUTE = 60_000;

/**
 * The HTTP platform: one error filter, global validation, and guards in this order: bearer auth,
 * rate limits (per IP and per account, shared through Redis), then the card-number check.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, REDIS],
      useFactory: (config: AppConfig, redis: Redis) => ({
        storage: new RedisThrottlerStorage(redis),
        throttlers: [
          {
            name: 'ip',
            ttl: MINUTE,
            limit: config.rateLimit.ipPerMinute,
            getTracker: (req: Record<string, unknown>) => String(req.ip ?? 'unknown'),
          },
          {
            name: 'account',
            ttl: MINUTE,
            limit: config.rateLimit.accountPerMinute,
            getTracker: (req: Record<string, unknown>) => {
              const principal = (req as unknown as AuthenticatedRequest).principal;
              return principal ? (principal.accountId ?? `user:${principal.userId}`) : `ip:${String(req.ip)}`;
            },
          },
        ],
      }),
    }),
  ],
  providers: [
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: ThrottlerGuard },
    { provide: APP_GUARD, useClass: CardDataGuard },
  ],
})
export class HttpPlatformModule {}
