import { Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { type JobEnvelope, QUEUES } from '../../../platform/queue/queue.registry.js';
import {
  SendNotificationHandler,
  type SendResult,
} from '../commands/send-notification/send-notification.handler.js';
import { SweepNotifications } from '../commands/sweep-notifications.js';
import { ScanRemindersHandler } from '../commands/scan-reminders/scan-reminders.handler.js';

/** One outbox e-mail per job (job id = row id); retries with Bull's exponential backoff. */
@Processor(QUEUES.notifications)
export class SendNotificationProcessor {
  constructor(private readonly sender: SendNotificationHandler) {}

  @HandlesJob('notifications.send')
  send(job: Job<JobEnvelope<'notifications.send'>>): Promise<SendResult> {
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return this.sender.execute(job.data.payload.notificationId, { lastAttempt });
  }
}

/** Repeatable: enqueues outbox rows whose after-commit enqueue was lost. */
@Processor(QUEUES.maintenance)
export class SweepNotificationsProcessor {
  constructor(private readonly sweeper: SweepNotifications) {}

  @HandlesJob('maintenance.sweep-notifications')
  sweep(): Promise<{ requeued: number }> {
    return this.sweeper.sweep();
  }
}

/** Repeatable (NotificationsBootstrap): enqueues the reminders that are due. */
@Processor(QUEUES.maintenance)
export class ScanRemindersProcessor {
  constructor(private readonly scanner: ScanRemindersHandler) {}

  @HandlesJob('maintenance.scan-reminders')
  scan(): Promise<{ trialEnding: number; cardExpiring: number }> {
    return this.scanner.scan();
  }
}
