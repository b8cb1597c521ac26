import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { AppConfig } from '../config/app-config.js';
import { JOB_HANDLER } from './handles-job.decorator.js';
import { checkJobHandlers } from './job-handler-check.js';
import { QueueSchedules } from './queue-schedules.js';

/**
 * In worker processes: refuses to start when a declared job has no handler or two, then schedules the
 * repeatable jobs (idempotent across workers: Bull keys a schedule by name and interval) and keeps them
 * scheduled through Redis restarts (`QueueSchedules`).
 */
@Injectable()
export class QueueBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('Queues');

  constructor(
    private readonly config: AppConfig,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly schedules: QueueSchedules,
  ) {}

  handlerNames(): string[] {
    const names: string[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | null | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = (prototype as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const name = this.reflector.get<string | undefined>(JOB_HANDLER, fn as () => unknown);
        if (name) names.push(name);
      }
    }
    return names;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.runsWorkers) return;
    const problems = checkJobHandlers(this.handlerNames());
    if (problems.length > 0) throw new Error(`Job handlers are inconsistent: ${problems.join('; ')}`);
    for (const [name, every] of this.schedules.registryDefaults()) await this.schedules.keep(name, every);
    this.schedules.watch();
  }
}
