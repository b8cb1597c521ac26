import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SUBSCRIPTION_STATES } from '@billing/domain';
import {
  NEXT_CHANGE_KINDS,
  VERDICT_REASONS,
  type NextChangeKind,
  type VerdictReason,
} from '../../contracts/entitlement-verdict.js';

export class DunningNextStepRefDto {
  @ApiProperty({ example: 'day_5' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  dueAt!: string;
}

export class DunningStageDto {
  @ApiProperty({ format: 'uuid' })
  caseId!: string;

  @ApiProperty({ enum: ['past_due', 'suspended'] })
  stage!: 'past_due' | 'suspended';

  @ApiProperty({ type: String, nullable: true, example: 'day_3', description: 'The last step that ran.' })
  lastStep!: string | null;

  @ApiProperty({
    type: DunningNextStepRefDto,
    nullable: true,
    description: 'The next step and when it runs.',
  })
  nextStep!: DunningNextStepRefDto | null;

  @ApiProperty({ format: 'date-time', description: 'Day 0: when the payment failed.' })
  day0!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'When access becomes read-only unless the invoice is paid.',
  })
  suspendAt!: string;

  @ApiProperty({ type: String, nullable: true, description: "Stripe's hosted invoice page (pay now)." })
  hostedInvoiceUrl!: string | null;
}

export class SeatLimitDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 6,
    description: 'Seats the account may use; null: unlimited.',
  })
  total!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 3,
    description: 'Members of the account (owner included); null when the database could not be read.',
  })
  used!: number | null;
}

export class LimitsDto {
  @ApiProperty({ type: SeatLimitDto })
  seats!: SeatLimitDto;
}

export class BannerDto {
  @ApiProperty({
    enum: [
      'past_due',
      'suspended',
      'trial_ends',
      'cancels_at_period_end',
      'downgrade_scheduled',
      'card_expiring',
    ],
    example: 'trial_ends',
  })
  kind!: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description:
      'When it happens (trial_ends, cancels_at_period_end, downgrade_scheduled; card_expiring: the renewal the card does not last until).',
  })
  at?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Since when the account is past due (past_due).',
  })
  since?: string | null;

  @ApiPropertyOptional({ description: 'The plan of the scheduled downgrade (downgrade_scheduled).' })
  planId?: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'visa',
    description: 'The card brand (card_expiring).',
  })
  brand?: string | null;

  @ApiPropertyOptional({ example: '4242', description: 'The last four digits of the card (card_expiring).' })
  last4?: string;

  @ApiPropertyOptional({ example: 5, minimum: 1, maximum: 12, description: 'Expiry month (card_expiring).' })
  expMonth?: number;

  @ApiPropertyOptional({ example: 2031, description: 'Expiry year (card_expiring).' })
  expYear?: number;
}

export class BillingStatusDto {
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description:
      'Billing applies to the account: its flag is on and it is inside the rollout. Null when unknown.',
  })
  enabled!: boolean | null;

  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: "The account's own billing flag; null when unknown.",
  })
  accountFlag!: boolean | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 100,
    description: 'The global rollout percentage; null when unknown.',
  })
  rolloutPercent!: number | null;
}

export class NextChangeDto {
  @ApiProperty({ enum: NEXT_CHANGE_KINDS, example: 'trial_end' })
  kind!: NextChangeKind;

  @ApiProperty({ example: '2026-12-21T00:00:00.000Z' })
  at!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'The plan the account moves to (downgrade: the new plan; cancellation: free; trial_end: null).',
  })
  planId!: string | null;
}

export class EntitlementVerdictDto {
  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({
    example: 'pro',
    description:
      "The plan whose features apply (the catalogue's top plan when billing is off or access fails open).",
  })
  tier!: string;

  @ApiProperty({
    type: [String],
    example: ['api', 'sso'],
    description: 'Feature keys of the catalogue, sorted.',
  })
  features!: string[];

  @ApiProperty({ type: LimitsDto })
  limits!: LimitsDto;

  @ApiProperty({
    enum: ['full', 'read_only'],
    description: '`read_only`: reads and exports pass, mutations are refused (a suspended account).',
  })
  accessMode!: 'full' | 'read_only';

  @ApiProperty({ type: [BannerDto] })
  banners!: BannerDto[];

  @ApiProperty({
    enum: ['subscription', 'billing_disabled', 'fail_open'],
    description:
      '`subscription`: decided by the subscription; `billing_disabled`: billing does not apply (flag off or outside the rollout): full access; `fail_open`: the state is uncertain and access is granted (R-CORE-5), see `reason`.',
  })
  basis!: 'subscription' | 'billing_disabled' | 'fail_open';

  @ApiProperty({ enum: VERDICT_REASONS, description: 'Why: the detail of `basis`.' })
  reason!: VerdictReason;

  @ApiProperty({
    enum: SUBSCRIPTION_STATES,
    nullable: true,
    description: "The deciding subscription's state; null when none or unknown.",
  })
  state!: string | null;

  @ApiProperty({ type: BillingStatusDto })
  billing!: BillingStatusDto;

  @ApiProperty({
    type: DunningStageDto,
    nullable: true,
    description:
      "The account's open dunning case in short (R-DUN): past_due or suspended, the last step that ran and the next one with its date; null when nothing is being dunned.",
  })
  dunningStage!: DunningStageDto | null;

  @ApiProperty({
    type: NextChangeDto,
    nullable: true,
    description:
      'The next scheduled change of the verdict (trial end, scheduled downgrade or cancellation), null when none.',
  })
  nextChange!: NextChangeDto | null;
}
