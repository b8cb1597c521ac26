import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfig } from '../config/app-config.js';
import { JobQueue } from './job-queue.js';
import { QueueBootstrap } from './queue-bootstrap.js';
import { QueueSchedules } from './queue-schedules.js';
import { QUEUES } from './queue.registry.js';

const queues = Object.values(QUEUES).map((name) => ({ name }));

/** Bull on Redis: the queues of the registry, the typed enqueuer and the worker start-up checks. */
@Global()
@Module({
  imports: [
    DiscoveryModule,
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        redis: config.redis.url,
        prefix: config.redis.queuePrefix,
      }),
    }),
    BullModule.registerQueue(...queues),
  ],
  providers: [JobQueue, QueueBootstrap, QueueSchedules],
  exports: [JobQueue, QueueSchedules, BullModule],
})
export class QueueModule {}
