import { type DynamicModule, Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { CatalogModule } from '../catalog/catalog.module.js';
import { ScanRemindersHandler } from './commands/scan-reminders/scan-reminders.handler.js';
import { NotificationsBootstrap } from './jobs/notifications.bootstrap.js';
import { CardExpiringEmailListener } from './listeners/card-expiring-email.listener.js';
import { DunningEmailsListener } from './listeners/dunning-emails.listener.js';
import { SubscriptionEmailsListener } from './listeners/subscription-emails.listener.js';
import { RefundIssuedEmailListener } from './listeners/refund-issued-email.listener.js';
import { OwnershipTransferEmailListener } from './listeners/ownership-transfer-email.listener.js';
import { NotificationMetrics } from './notification.metrics.js';
import { ResendNotificationHandler } from './commands/resend-notification/resend-notification.handler.js';
import { AdminNotificationsController } from './http/admin-notifications.controller.js';
import { NotificationQueries } from './queries/notification.queries.js';
import { ChangeNotificationPreferenceHandler } from './commands/change-notification-preference/change-notification-preference.handler.js';
import { SendNotificationHandler } from './commands/send-notification/send-notification.handler.js';
import { SweepNotifications } from './commands/sweep-notifications.js';
import {
  ScanRemindersProcessor,
  SendNotificationProcessor,
  SweepNotificationsProcessor,
} from './jobs/notification.processors.js';
import { NotificationPreferencesController } from './http/notification-preferences.controller.js';
import { UnsubscribeBodyParser } from './http/unsubscribe-body.parser.js';
import { UnsubscribeController } from './http/unsubscribe.controller.js';
import { Mailer } from './mailer.js';
import { NotificationsFacade } from './notifications.facade.js';
import { NotificationPreferencesQueries } from './queries/notification-preferences.queries.js';
import { ExpiringCardsQueries } from './queries/expiring-cards.queries.js';

/**
 * E-mail notifications (R-NOT): the outbox written in the caller's transaction, a Bull job per row
 * enqueued after commit, a sweeper for rows whose job was lost, and the SMTP sender. Reminders
 * can be unsubscribed (R-NOT-3): the one-click link in the mail and the account's preferences API.
 */
@Module({
  imports: [AccountsModule, CatalogModule],
  controllers: [UnsubscribeController, NotificationPreferencesController, AdminNotificationsController],
  providers: [
    NotificationsFacade,
    Mailer,
    SendNotificationHandler,
    SweepNotifications,
    ChangeNotificationPreferenceHandler,
    NotificationPreferencesQueries,
    UnsubscribeBodyParser,
    NotificationMetrics,
    NotificationQueries,
    ResendNotificationHandler,
    RefundIssuedEmailListener,
    SubscriptionEmailsListener,
    DunningEmailsListener,
    CardExpiringEmailListener,
    ScanRemindersHandler,
    ExpiringCardsQueries,
    OwnershipTransferEmailListener,
  ],
  exports: [NotificationsFacade, SendNotificationHandler, SweepNotifications, ScanRemindersHandler],
})
export class NotificationsModule {}

/** The queue consumers of notifications: providers only in worker processes. */
@Module({})
export class NotificationsJobsModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: NotificationsJobsModule,
      imports: [NotificationsModule],
      providers: options.worker
        ? [
            SendNotificationProcessor,
            SweepNotificationsProcessor,
            ScanRemindersProcessor,
            NotificationsBootstrap,
          ]
        : [],
    };
  }
}
