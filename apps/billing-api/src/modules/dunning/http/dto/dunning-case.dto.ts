import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageMetaDto, PageQueryDto } from '../../../../platform/http/pagination.js';

export class DunningStepDto {
  @ApiProperty({ example: 'day_3', description: 'The step of the dunning policy.' })
  id!: string;

  @ApiProperty({ example: 3, description: 'Whole days (24 h) after Day 0, the failed attempt.' })
  dayOffset!: number;

  @ApiProperty({
    type: [String],
    example: ['retry_payment', 'send_email:payment_failed_2'],
    description: 'What the step does: `retry_payment`, `send_email:<template>`, `suspend`.',
  })
  actions!: string[];

  @ApiProperty({ format: 'date-time', description: "When it falls due, on the case's clock." })
  dueAt!: string;

  @ApiProperty({ enum: ['pending', 'done', 'canceled'], description: 'canceled: the case closed before it.' })
  status!: 'pending' | 'done' | 'canceled';

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it ran.' })
  ranAt!: string | null;

  @ApiProperty({ enum: ['succeeded', 'failed'], nullable: true, description: "The step's payment retry." })
  retryOutcome!: 'succeeded' | 'failed' | null;
}

export class DunningNextStepDto {
  @ApiProperty({ example: 'day_5' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  dueAt!: string;
}

export class DunningCaseDto {
  @ApiProperty({ format: 'uuid' })
  caseId!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  subscriptionId!: string | null;

  @ApiProperty({ example: 'in_1Q2w3E4r5T6y7U8i', description: 'The unpaid invoice.' })
  stripeInvoiceId!: string;

  @ApiProperty({ example: 2900, description: 'What is owed, in minor units.' })
  amountDue!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ type: String, nullable: true, description: "Stripe's hosted invoice page (pay now)." })
  hostedInvoiceUrl!: string | null;

  @ApiProperty({
    enum: ['past_due', 'suspended', 'closed'],
    description: '`past_due` until the suspend step ran, then `suspended` (read-only access).',
  })
  stage!: 'past_due' | 'suspended' | 'closed';

  @ApiProperty({ enum: ['paid', 'voided', 'uncollectible', 'subscription_canceled'], nullable: true })
  outcome!: string | null;

  @ApiProperty({ format: 'date-time', description: 'Day 0: when the payment failed.' })
  day0!: string;

  @ApiProperty({ format: 'date-time', description: 'When the suspend step falls due.' })
  suspendAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  suspendedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  closedAt!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The Stripe test clock whose time the timeline follows; null on real time.',
  })
  testClockId!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'day_3', description: 'The last step that ran.' })
  lastStep!: string | null;

  @ApiProperty({ type: DunningNextStepDto, nullable: true, description: 'The next step to run.' })
  nextStep!: DunningNextStepDto | null;

  @ApiProperty({
    type: [DunningStepDto],
    description: 'Every step: done, to come (with its date), canceled.',
  })
  steps!: DunningStepDto[];
}

export class AccountDunningDto {
  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({
    type: DunningCaseDto,
    nullable: true,
    description: "The account's open case (the oldest unpaid invoice's); null when nothing is owed.",
  })
  case!: DunningCaseDto | null;
}

export class ListDunningCasesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'day_3',
    description: 'Only cases whose last step is this one (`opened`: no step ran yet).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z0-9_]+$/, { message: 'step is a step id of the dunning policy' })
  step?: string;
}

export class DunningCasePageDto extends PageMetaDto {
  @ApiProperty({ type: [DunningCaseDto] })
  data!: DunningCaseDto[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { opened: 2, day_0: 14, day_3: 6, day_7: 1 },
    description: 'Every open case counted by its last step.',
  })
  counts!: Record<string, number>;
}
