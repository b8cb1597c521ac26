import { Process } from '@nestjs/bull';
import { SetMetadata } from '@nestjs/common';
import type { Job } from 'bull';
import { RequestContext } from '../context/request-context.js';
import { JOBS, type JobEnvelope, type JobName } from './queue.registry.js';

export const JOB_HANDLER = 'billing:job-handler';

/**
 * Declares the one handler of a job: registers it with Bull under the job's name and concurrency, and
 * runs it inside a request context carrying the job's correlation id, so its logs and audit records
 * name the request that caused it.
 */
export function HandlesJob(name: JobName): MethodDecorator {
  return (target, propertyKey, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (job: Job<JobEnvelope<JobName>>) => Promise<unknown>;
    const wrapped = function (this: unknown, job: Job<JobEnvelope<JobName>>): Promise<unknown> {
      const correlationId = job.data?.correlationId ?? `job:${String(job.id)}`;
      return RequestContext.run({ correlationId, actor: { type: 'system', id: `job:${name}` } }, () =>
        original.call(this, job),
      );
    };
    Object.defineProperty(wrapped, 'name', { value: original.name });
    descriptor.value = wrapped;
    Process({ name, concurrency: JOBS[name].concurrency })(target, propertyKey, descriptor);
    SetMetadata(JOB_HANDLER, name)(target, propertyKey, descriptor);
    return descriptor;
  };
}
