import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../../platform/auth/auth.decorators.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { ResendNotificationHandler } from '../commands/resend-notification/resend-notification.handler.js';
import { NotificationQueries } from '../queries/notification.queries.js';
import {
  ListNotificationsQueryDto,
  NotificationDto,
  NotificationPageDto,
} from './dto/admin-notification.dto.js';

/** The e-mail outbox for operators (R-NOT-1): list, inspect, and send a failed e-mail again. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/admin/notifications')
export class AdminNotificationsController {
  constructor(
    private readonly queries: NotificationQueries,
    private readonly resend: ResendNotificationHandler,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Outbox e-mails, newest first, filtered by status, template or account (admin).',
  })
  @ApiOkResponse({ type: NotificationPageDto })
  @ApiErrors('unauthenticated', 'forbidden', 'validation_failed')
  list(@Query() query: ListNotificationsQueryDto): Promise<NotificationPageDto> {
    return this.queries.list(
      { status: query.status, template: query.template, accountId: query.accountId },
      { limit: query.limit ?? 20, cursor: query.cursor },
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'One outbox e-mail with its attempts and last error (admin).' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: NotificationDto })
  @ApiErrors('unauthenticated', 'forbidden', 'validation_failed', 'not_found')
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<NotificationDto> {
    return this.queries.get(id);
  }

  @Post(':id/resend')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Send a failed e-mail again (admin): back to pending with its attempts reset, audited, queued. ' +
      '409 `notification_not_failed` for an e-mail that is pending, sent or suppressed.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: NotificationDto })
  @ApiErrors('unauthenticated', 'forbidden', 'validation_failed', 'not_found', 'notification_not_failed')
  resendOne(@Param('id', new ParseUUIDPipe()) id: string): Promise<NotificationDto> {
    return this.resend.execute(id);
  }
}
