import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsString, MaxLength } from 'class-validator';
import type { OptOutSource } from '../../persistence/notification-opt-outs.repository.js';
import { REMINDER_TEMPLATES, type TemplateName } from '../../templates/templates.js';

export class NotificationPreferenceDto {
  @ApiProperty({ enum: REMINDER_TEMPLATES, example: 'card_expiring', description: 'A reminder template.' })
  template!: TemplateName;

  @ApiProperty({ example: true, description: 'False when the account opted out of this reminder.' })
  subscribed!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  unsubscribedAt!: string | null;

  @ApiProperty({
    enum: ['one_click', 'api'],
    nullable: true,
    example: null,
    description: 'How the account opted out: the link in a reminder e-mail, or this API.',
  })
  source!: OptOutSource | null;
}

export class NotificationPreferenceListDto {
  @ApiProperty({
    type: [NotificationPreferenceDto],
    description:
      'Every reminder template. Transactional e-mails (receipts, refunds, dunning notices) are always sent and are not listed.',
  })
  data!: NotificationPreferenceDto[];
}

export class UpdateNotificationPreferenceDto {
  @ApiProperty({ example: false, description: 'false opts the account out of the reminder, true back in.' })
  @IsBoolean()
  subscribed!: boolean;
}

export class UnsubscribeQueryDto {
  @ApiProperty({ description: 'The signed token from the List-Unsubscribe link of a reminder e-mail.' })
  @IsString()
  @MaxLength(512)
  token!: string;
}

export class UnsubscribeResultDto {
  @ApiProperty({ example: 'card_expiring' })
  template!: string;

  @ApiProperty({ example: false, description: 'Always false: the account no longer gets this reminder.' })
  subscribed!: boolean;
}
