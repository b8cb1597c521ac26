import { type DynamicModule, Global, Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AfterCommit } from './after-commit.js';
import { SendNotificationHandler } from './commands/send-notification/send-notification.handler.js';
import { SweepNotifications } from './commands/sweep-notifications.js';
import { SendNotificationProcessor, SweepNotificationsProcessor } from './jobs/notification.processors.js';
import { Mailer } from './mailer.js';
import { NotificationsFacade } from './notifications.facade.js';

/**
 * E-mail notifications (R-NOT): the outbox written in the caller's transaction, a Bull job per row
 * enqueued after commit, a sweeper for rows whose job was lost, and the SMTP sender. Global: the
 * payments and refunds webhook handlers put their e-mails in the outbox without importing it.
 */
@Global()
@Module({
  imports: [AccountsModule],
  providers: [AfterCommit, NotificationsFacade, Mailer, SendNotificationHandler, SweepNotifications],
  exports: [NotificationsFacade, AfterCommit, SendNotificationHandler, SweepNotifications],
})
export class NotificationsModule {}

/** The queue consumers of notifications: providers only in worker processes. */
@Module({})
export class NotificationsJobsModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: NotificationsJobsModule,
      imports: [NotificationsModule],
      providers: options.worker ? [SendNotificationProcessor, SweepNotificationsProcessor] : [],
    };
  }
}
