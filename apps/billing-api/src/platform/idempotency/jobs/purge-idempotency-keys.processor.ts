import { Processor } from '@nestjs/bull';
import { Logger } from '@nestjs/common';
import { HandlesJob } from '../../queue/handles-job.decorator.js';
import { QUEUES } from '../../queue/queue.registry.js';
import { IdempotencyStore } from '../idempotency.store.js';

/** Hourly: forgets idempotency keys older than their TTL (24 h by default). */
@Processor(QUEUES.maintenance)
export class PurgeIdempotencyKeysProcessor {
  private readonly logger = new Logger('IdempotencyPurge');

  constructor(private readonly store: IdempotencyStore) {}

  @HandlesJob('maintenance.purge-idempotency-keys')
  async purge(): Promise<{ deleted: number }> {
    let deleted = 0;
    for (;;) {
      const n = await this.store.purgeExpired(10_000);
      deleted += n;
      if (n < 10_000) break;
    }
    if (deleted > 0) this.logger.log(`deleted ${deleted} expired idempotency keys`);
    return { deleted };
  }
}
