import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../../platform/config/app-config.js';
import { QueueSchedules } from '../../../platform/queue/queue-schedules.js';

/**
 * In worker processes: schedules the reminder scan every NOTIFICATIONS_REMINDER_SCAN_INTERVAL_MS and
 * keeps it scheduled (QueueSchedules re-asserts it after Redis lost it).
 */
@Injectable()
export class NotificationsBootstrap implements OnApplicationBootstrap {
  constructor(
    private readonly config: AppConfig,
    private readonly schedules: QueueSchedules,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.runsWorkers) return;
    await this.schedules.keepOnly(
      'maintenance.scan-reminders',
      this.config.notifications.reminderScanIntervalMs,
    );
  }
}
