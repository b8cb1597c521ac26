import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageMetaDto, PageQueryDto } from '../../../../platform/http/pagination.js';
import { NOTIFICATION_STATUSES, type NotificationStatus } from '../../queries/notification.queries.js';
import { TEMPLATES, type TemplateName } from '../../templates/templates.js';

const TEMPLATE_NAMES = Object.keys(TEMPLATES) as TemplateName[];

export class ListNotificationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: NOTIFICATION_STATUSES, description: 'e.g. `failed`: e-mails given up.' })
  @IsOptional()
  @IsIn(NOTIFICATION_STATUSES)
  status?: NotificationStatus;

  @ApiPropertyOptional({ enum: TEMPLATE_NAMES })
  @IsOptional()
  @IsIn(TEMPLATE_NAMES)
  template?: TemplateName;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  accountId?: string;
}

export class NotificationDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ enum: TEMPLATE_NAMES, example: 'payment_succeeded' })
  template!: string;

  @ApiProperty({
    enum: NOTIFICATION_STATUSES,
    description:
      'pending: waiting for (or between) send attempts; sent: the SMTP server took it; failed: its last ' +
      'attempt failed; suppressed: a reminder the account unsubscribed from.',
  })
  status!: NotificationStatus;

  @ApiProperty({ description: 'Send attempts so far (reset by a resend).' })
  attempts!: number;

  @ApiProperty({ nullable: true, type: String, description: 'Set when it was sent or attempted.' })
  recipient!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'The last send error.' })
  lastError!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'What the SMTP server answered with.' })
  messageId!: string | null;

  @ApiProperty()
  createdAt!: string;

  @ApiProperty({ nullable: true, type: String })
  sentAt!: string | null;

  @ApiProperty()
  updatedAt!: string;
}

export class NotificationPageDto extends PageMetaDto {
  @ApiProperty({ type: [NotificationDto] })
  data!: NotificationDto[];
}
