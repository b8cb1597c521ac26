import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '../../../platform/http/api-error.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import {
  NotificationOptOutsRepository,
  type OptOutSource,
} from '../persistence/notification-opt-outs.repository.js';
import { REMINDER_TEMPLATES, type TemplateName } from '../templates/templates.js';

export interface NotificationPreferenceView {
  template: TemplateName;
  subscribed: boolean;
  /** When and how the account opted out; null while subscribed. */
  unsubscribedAt: string | null;
  source: OptOutSource | null;
}

/** Every reminder template of an account with whether it is sent (R-NOT-3). */
@Injectable()
export class NotificationPreferencesQueries {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly accounts: AccountsFacade,
  ) {}

  async list(accountId: string): Promise<NotificationPreferenceView[]> {
    const manager = this.db.manager;
    if (!(await this.accounts.accountExists(manager, accountId))) {
      throw new ApiError('not_found', 'The resource was not found.');
    }
    const optOuts = new Map(
      (await NotificationOptOutsRepository.list(manager, accountId)).map((row) => [row.template, row]),
    );
    return REMINDER_TEMPLATES.map((template) => {
      const optOut = optOuts.get(template);
      return {
        template,
        subscribed: optOut === undefined,
        unsubscribedAt: optOut ? optOut.created_at.toISOString() : null,
        source: optOut?.source ?? null,
      };
    });
  }
}
