import { Body, Controller, Get, Param, ParseUUIDPipe, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { assertAccountAccess, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { ChangeNotificationPreferenceHandler } from '../commands/change-notification-preference/change-notification-preference.handler.js';
import { NotificationPreferencesQueries } from '../queries/notification-preferences.queries.js';
import { REMINDER_TEMPLATES } from '../templates/templates.js';
import {
  NotificationPreferenceDto,
  NotificationPreferenceListDto,
  UpdateNotificationPreferenceDto,
} from './dto/notification-preferences.dto.js';

/**
 * Which reminder e-mails an account gets (R-NOT-3). Owners and admins change them; members and the
 * internal roles may read them. Transactional e-mails are always sent and cannot be switched off.
 */
@ApiTags('notifications')
@ApiBearerAuth()
@ApiParam({
  name: 'accountId',
  format: 'uuid',
  description: 'A UUID (anything else is a 400 validation_failed).',
})
@Controller('v1/accounts/:accountId/notification-preferences')
export class NotificationPreferencesController {
  constructor(
    private readonly queries: NotificationPreferencesQueries,
    private readonly change: ChangeNotificationPreferenceHandler,
  ) {}

  @Get()
  @Roles('owner', 'member', 'finance', 'support', 'admin')
  @ApiOperation({ summary: 'Every reminder e-mail template of the account, subscribed or not.' })
  @ApiOkResponse({ type: NotificationPreferenceListDto })
  @ApiErrors('forbidden', 'not_found', 'validation_failed')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', new ParseUUIDPipe()) accountId: string,
  ): Promise<NotificationPreferenceListDto> {
    assertAccountAccess(principal, accountId);
    return { data: await this.queries.list(accountId) };
  }

  @Put(':template')
  @Roles('owner', 'admin')
  @Idempotent()
  @ApiOperation({
    summary:
      'Opt the account out of a reminder e-mail (`subscribed: false`) or back in (owner, admin). Idempotent; every change is audited. Transactional templates answer 422 `template_not_unsubscribable`.',
  })
  @ApiParam({ name: 'template', enum: REMINDER_TEMPLATES })
  @ApiOkResponse({ type: NotificationPreferenceDto })
  @ApiErrors(
    'forbidden',
    'not_found',
    'validation_failed',
    'template_not_unsubscribable',
    'card_data_forbidden',
    'idempotency_key_reused',
    'idempotency_key_invalid',
    'idempotency_request_in_progress',
    'idempotency_key_in_use',
  )
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', new ParseUUIDPipe()) accountId: string,
    @Param('template') template: string,
    @Body() body: UpdateNotificationPreferenceDto,
  ): Promise<NotificationPreferenceDto> {
    assertAccountAccess(principal, accountId);
    await this.change.execute({ accountId, template, subscribed: body.subscribed, source: 'api' });
    const current = (await this.queries.list(accountId)).find((p) => p.template === template);
    if (!current) throw new Error(`preference ${template} vanished`);
    return current;
  }
}
