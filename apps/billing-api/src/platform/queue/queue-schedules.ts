import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { JobQueue } from './job-queue.js';
import { JOBS, type JobName } from './queue.registry.js';

/**
 * Keeps every repeatable job scheduled (issue 16). Bull keeps a schedule in Redis only: when Redis comes
 * back empty (a restart without persistence, a failover to a replica that lacked it) every janitor and
 * sweeper would stop until the app restarted. So a worker re-asserts each schedule when the queue's
 * Redis connection is ready again and every SCHEDULE_CHECK_INTERVAL_MS. Re-asserting is idempotent:
 * Bull keys a schedule by name, interval and job id, and its next run by that key and time, so an
 * existing schedule and its next run are left as they are; a missing one is created.
 */
@Injectable()
export class QueueSchedules implements OnApplicationShutdown {
  private readonly logger = new Logger('Queues');
  private readonly schedules = new Map<JobName, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobQueue,
  ) {}

  /** The registry's repeatable jobs, at their fixed intervals. */
  registryDefaults(): [JobName, number][] {
    const out: [JobName, number][] = [];
    for (const [name, def] of Object.entries(JOBS) as [JobName, (typeof JOBS)[JobName]][]) {
      if ('repeat' in def) out.push([name, def.repeat.every]);
    }
    return out;
  }

  /** Keeps `name` scheduled every `every` ms from now on, and schedules it now. */
  async keep(name: JobName, every: number): Promise<void> {
    this.schedules.set(name, every);
    await this.add(name, every);
    this.logger.log(`scheduled ${name} every ${every} ms`);
  }

  /**
   * Keeps `name` scheduled every `every` ms (an interval from configuration) and removes its schedules
   * left by another interval, which Bull would otherwise keep running beside the new one.
   */
  async keepOnly(name: JobName, every: number): Promise<void> {
    const queue = this.jobs.queueFor(name);
    for (const repeatable of await queue.getRepeatableJobs()) {
      if (repeatable.name === name && Number(repeatable.every) !== every) {
        await queue.removeRepeatableByKey(repeatable.key);
      }
    }
    await this.keep(name, every);
  }

  /** The schedules kept: name and interval. */
  kept(): ReadonlyMap<JobName, number> {
    return this.schedules;
  }

  /** Starts re-asserting: on every `ready` of a queue's Redis connection, and on the interval. */
  watch(): void {
    if (this.timer) return;
    for (const { queue } of this.jobs.all()) {
      const onReady = (): void => void this.ensureAll('redis reconnected');
      queue.client.on('ready', onReady);
      this.listeners.push(() => queue.client.off('ready', onReady));
    }
    this.timer = setInterval(() => void this.ensureAll(), this.config.redis.scheduleCheckIntervalMs);
    this.timer.unref();
  }

  /**
   * Re-asserts every kept schedule; one run at a time (a request during a run runs once more after it).
   * Failures (Redis still down) are logged and left to the next trigger.
   */
  ensureAll(reason?: string): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          for (const [name, every] of this.schedules) await this.add(name, every);
          if (reason) this.logger.log({ msg: 'schedules re-asserted', reason, count: this.schedules.size });
        } catch (error) {
          this.logger.warn({
            msg: 'schedules could not be re-asserted; trying again on the next reconnect or check',
            error: error instanceof Error ? error.message : String(error),
          });
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const off of this.listeners.splice(0)) off();
  }

  private async add(name: JobName, every: number): Promise<void> {
    await this.jobs
      .queueFor(name)
      .add(
        name,
        { correlationId: `schedule:${name}`, payload: {} },
        { ...JOBS[name].options, repeat: { every }, jobId: `repeat:${name}` },
      );
  }
}
