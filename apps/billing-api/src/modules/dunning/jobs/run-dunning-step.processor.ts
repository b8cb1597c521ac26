import { Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { QUEUES, type JobEnvelope } from '../../../platform/queue/queue.registry.js';
import {
  RunDunningStepHandler,
  type RunDueOutcome,
} from '../commands/run-dunning-step/run-dunning-step.handler.js';

/** A step fell due: runs the case's due steps in order (each once; see RunDunningStepHandler). */
@Processor(QUEUES.dunning)
export class RunDunningStepProcessor {
  constructor(private readonly steps: RunDunningStepHandler) {}

  @HandlesJob('dunning.run-step')
  run(job: Job<JobEnvelope<'dunning.run-step'>>): Promise<RunDueOutcome> {
    return this.steps.runDue(job.data.payload.caseId);
  }
}
