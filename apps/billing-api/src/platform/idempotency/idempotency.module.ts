import { type DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { IdempotencyStore } from './idempotency.store.js';
import { PurgeIdempotencyKeysProcessor } from './jobs/purge-idempotency-keys.processor.js';

/** HTTP idempotency keys (R-API-5); the purge job runs only in worker processes. */
@Module({})
export class IdempotencyModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: IdempotencyModule,
      providers: [
        IdempotencyStore,
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        ...(options.worker ? [PurgeIdempotencyKeysProcessor] : []),
      ],
      exports: [IdempotencyStore],
    };
  }
}
