import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import type { Actor } from '../../../../platform/context/request-context.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import {
  NotificationOptOutsRepository,
  type OptOutSource,
} from '../../persistence/notification-opt-outs.repository.js';
import { isReminder, isTemplateName, type TemplateName } from '../../templates/templates.js';

export interface ChangeNotificationPreferenceCommand {
  accountId: string;
  template: string;
  subscribed: boolean;
  source: OptOutSource;
  /** Defaults to the request's actor (the authenticated user). */
  actor?: Actor;
  reason?: string;
}

export interface NotificationPreferenceChange {
  template: TemplateName;
  subscribed: boolean;
  /** False when the preference already was as asked (a repeated request writes and audits nothing). */
  changed: boolean;
}

/**
 * Opts an account out of a reminder template, or back in (R-NOT-3), idempotently: the row is inserted
 * or deleted in one statement, and only an actual change is recorded in the audit log, in the same
 * transaction. Transactional templates (receipts, refunds, dunning) are always sent and are refused.
 */
@Injectable()
export class ChangeNotificationPreferenceHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly accounts: AccountsFacade,
    private readonly audit: AuditFacade,
  ) {}

  async execute(command: ChangeNotificationPreferenceCommand): Promise<NotificationPreferenceChange> {
    const template = assertUnsubscribable(command.template);
    return this.db.transaction(async (manager) => {
      if (!(await this.accounts.accountExists(manager, command.accountId))) {
        throw new ApiError('not_found', 'The resource was not found.');
      }
      const now = this.clock.now();
      let changed: boolean;
      let before: Record<string, unknown>;
      if (command.subscribed) {
        const removed = await NotificationOptOutsRepository.delete(manager, command.accountId, template);
        changed = removed !== null;
        before = { subscribed: false, source: removed?.source ?? null };
      } else {
        changed = await NotificationOptOutsRepository.insert(manager, {
          accountId: command.accountId,
          template,
          source: command.source,
          now,
        });
        before = { subscribed: true };
      }
      if (changed) {
        await this.audit.record(
          {
            accountId: command.accountId,
            action: command.subscribed ? 'notification.resubscribed' : 'notification.unsubscribed',
            entityType: 'notification_preference',
            entityId: `${command.accountId}:${template}`,
            before: { template, ...before },
            after: { template, subscribed: command.subscribed, source: command.source },
            reason: command.reason ?? null,
            ...(command.actor ? { actor: command.actor } : {}),
          },
          manager,
        );
      }
      return { template, subscribed: command.subscribed, changed };
    });
  }
}

/** The template as a reminder name: 404 for an unknown name, 422 for a transactional one. */
export function assertUnsubscribable(name: string): TemplateName {
  if (!isTemplateName(name)) {
    throw new ApiError('not_found', `There is no notification template named ${name}.`, {
      param: 'template',
    });
  }
  if (!isReminder(name)) {
    throw new ApiError(
      'template_not_unsubscribable',
      `${name} is a transactional e-mail (receipts, refunds, dunning notices are always sent); only reminders can be unsubscribed.`,
      { param: 'template' },
    );
  }
  return name;
}
