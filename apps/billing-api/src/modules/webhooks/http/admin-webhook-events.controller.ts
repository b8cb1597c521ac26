import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../../platform/auth/auth.decorators.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { ReplayEventsHandler } from '../commands/replay-events/replay-events.handler.js';
import { WebhookEventQueries } from '../queries/webhook-event.queries.js';
import {
  ListWebhookEventsQueryDto,
  ReplayResultDto,
  ReplayWebhookEventsDto,
  WebhookEventCountsDto,
  WebhookEventDto,
  WebhookEventPageDto,
} from './dto/webhook-event.dto.js';

/** The webhook inbox for operators (R-WH-5): list, inspect, count, replay dead letters. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/admin/webhook-events')
export class AdminWebhookEventsController {
  constructor(
    private readonly queries: WebhookEventQueries,
    private readonly replay: ReplayEventsHandler,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Stored Stripe events, newest received first, filtered and cursor-paginated (admin).',
  })
  @ApiOkResponse({ type: WebhookEventPageDto })
  @ApiErrors('unauthenticated', 'forbidden', 'validation_failed')
  list(@Query() query: ListWebhookEventsQueryDto): Promise<WebhookEventPageDto> {
    return this.queries.list(
      {
        type: query.type,
        status: query.status,
        createdFrom: query.createdFrom,
        createdTo: query.createdTo,
        receivedFrom: query.receivedFrom,
        receivedTo: query.receivedTo,
      },
      { limit: query.limit ?? 20, cursor: query.cursor },
    );
  }

  @Get('counts')
  @ApiOperation({ summary: 'Number of stored events in each status (admin).' })
  @ApiOkResponse({ type: WebhookEventCountsDto })
  @ApiErrors('unauthenticated', 'forbidden')
  counts(): Promise<WebhookEventCountsDto> {
    return this.queries.countsByStatus();
  }

  @Post('replay')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Replay dead events (admin): back to pending and queued; each is applied at most once.',
  })
  @ApiOkResponse({ type: ReplayResultDto })
  @ApiErrors('unauthenticated', 'forbidden', 'validation_failed')
  replayMany(@Body() body: ReplayWebhookEventsDto): Promise<ReplayResultDto> {
    return this.replay.execute(body.ids);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One stored event with its payload and last error (admin).' })
  @ApiParam({ name: 'id', example: 'evt_1Q2w3E4r5T6y7U8i' })
  @ApiOkResponse({ type: WebhookEventDto })
  @ApiErrors('unauthenticated', 'forbidden', 'not_found')
  get(@Param('id') id: string): Promise<WebhookEventDto> {
    return this.queries.get(id);
  }

  @Post(':id/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replay one dead event (admin). 409 when the event is not dead.' })
  @ApiParam({ name: 'id', example: 'evt_1Q2w3E4r5T6y7U8i' })
  @ApiOkResponse({ type: ReplayResultDto })
  @ApiErrors('unauthenticated', 'forbidden', 'not_found', 'conflict')
  async replayOne(@Param('id') id: string): Promise<ReplayResultDto> {
    const result = await this.replay.execute([id]);
    if (result.replayed.length === 0) {
      const event = await this.queries.get(id); // 404 when unknown
      throw new ApiError('conflict', `Event ${id} is ${event.status}; only dead events are replayed.`);
    }
    return result;
  }
}
