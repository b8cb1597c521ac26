import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDate,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { PageMetaDto, PageQueryDto } from '../../../../platform/http/pagination.js';
import {
  WEBHOOK_EVENT_STATUSES,
  type WebhookEventStatus,
} from '../../persistence/webhook-event.orm-entity.js';

const EVENT_ID = /^evt_[A-Za-z0-9_]{1,200}$/;

export class ListWebhookEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'customer.updated', description: 'Exact event type.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[a-z0-9_.]+$/, { message: 'type must be a Stripe event type such as invoice.paid' })
  type?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_STATUSES })
  @IsOptional()
  @IsIn(WEBHOOK_EVENT_STATUSES)
  status?: WebhookEventStatus;

  @ApiPropertyOptional({ description: 'Event `created` at or after (ISO 8601).', type: String })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  createdFrom?: Date;

  @ApiPropertyOptional({ description: 'Event `created` before (ISO 8601).', type: String })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  createdTo?: Date;

  @ApiPropertyOptional({ description: 'Received at or after (ISO 8601).', type: String })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  receivedFrom?: Date;

  @ApiPropertyOptional({ description: 'Received before (ISO 8601).', type: String })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  receivedTo?: Date;
}

export class WebhookEventSummaryDto {
  @ApiProperty({ example: 'evt_1Q2w3E4r5T6y7U8i' })
  id!: string;

  @ApiProperty({ example: 'customer.updated' })
  type!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_STATUSES })
  status!: WebhookEventStatus;

  @ApiProperty({ enum: ['applied', 'skipped_stale', 'ignored'], nullable: true })
  outcome!: 'applied' | 'skipped_stale' | 'ignored' | null;

  @ApiProperty({ description: 'Processing attempts so far (reset by a replay).' })
  attempts!: number;

  @ApiProperty({ nullable: true, type: String, example: '2026-10-28.endive' })
  apiVersion!: string | null;

  @ApiProperty()
  livemode!: boolean;

  @ApiProperty({ description: "The event's `created` (ISO 8601)." })
  created!: string;

  @ApiProperty()
  receivedAt!: string;

  @ApiProperty({ nullable: true, type: String })
  processedAt!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'The last processing error.' })
  lastError!: string | null;
}

export class WebhookEventDto extends WebhookEventSummaryDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The Stripe event as received.' })
  payload!: Record<string, unknown>;
}

export class WebhookEventPageDto extends PageMetaDto {
  @ApiProperty({ type: [WebhookEventSummaryDto] })
  data!: WebhookEventSummaryDto[];
}

export class WebhookEventCountsDto {
  @ApiProperty() pending!: number;
  @ApiProperty() processing!: number;
  @ApiProperty() processed!: number;
  @ApiProperty() ignored!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() dead!: number;
}

export class ReplayWebhookEventsDto {
  @ApiProperty({ type: [String], example: ['evt_1Q2w3E4r5T6y7U8i'], description: 'Dead events to replay.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Matches(EVENT_ID, { each: true, message: 'each id must be a Stripe event id (evt_…)' })
  ids!: string[];
}

export class ReplayResultDto {
  @ApiProperty({ type: [String], description: 'Moved from dead back to pending and queued.' })
  replayed!: string[];

  @ApiProperty({ type: [String], description: 'Not dead (or unknown): untouched.' })
  skipped!: string[];
}
