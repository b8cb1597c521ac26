import { Processor } from '@nestjs/bull';
import { describe, expect, it } from '@jest/globals';
import { HandlesJob } from '../../apps/billing-api/src/platform/queue/handles-job.decorator.js';
import { QUEUES } from '../../apps/billing-api/src/platform/queue/queue.registry.js';
import { startTestApp } from '../support/test-app.js';

@Processor(QUEUES.maintenance)
class SecondPurgeHandler {
  @HandlesJob('maintenance.purge-idempotency-keys')
  async purge(): Promise<void> {}
}

// Bull refuses two handlers of one job on the same queue before our own check (which also catches jobs
// without a handler and handlers of undeclared jobs: see job-handler-check.spec.ts) gets to run.
describe('job registry start-up check', () => {
  it('refuses to start a worker when a declared job has two handlers', async () => {
    await expect(startTestApp({ role: 'worker', providers: [SecondPurgeHandler] })).rejects.toThrow(
      /(twice|2 handlers).*maintenance\.purge-idempotency-keys|maintenance\.purge-idempotency-keys.*(twice|2 handlers)/,
    );
  });
});
