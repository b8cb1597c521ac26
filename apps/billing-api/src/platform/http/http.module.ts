import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { RolesGuard } from '../auth/roles.guard.js';
import { CardDataGuard } from './card-data.guard.js';
import { HttpExceptionFilter } from './http-exception.filter.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RateLimiter } from './rate-limiter.js';
import { createValidationPipe } from './validation.js';

/**
 * The HTTP platform: one error filter, global validation, and guards in this order: bearer auth, rate
 * limits (per IP and per account, shared through Redis), roles, then the card-number check.
 */
@Module({
  providers: [
    RateLimiter,
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: CardDataGuard },
  ],
})
export class HttpPlatformModule {}
