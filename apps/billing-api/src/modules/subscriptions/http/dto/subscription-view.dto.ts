import { SUBSCRIPTION_STATES } from '@billing/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';

export class PlanRefDto {
  @ApiProperty({ example: 'pro' })
  id!: string;

  @ApiProperty({ example: 'Pro' })
  name!: string;
}

export class BannerDto {
  @ApiProperty({
    example: 'past_due',
    enum: ['past_due', 'suspended', 'trial_ends', 'cancels_at_period_end', 'downgrade_scheduled'],
  })
  kind!: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'past_due: since when.',
  })
  since?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time', description: 'When it happens.' })
  at?: string | null;

  @ApiPropertyOptional({ example: 'pro', description: 'downgrade_scheduled: the plan it moves to.' })
  planId?: string;
}

export class SeatsDto {
  @ApiProperty({ example: 3, description: 'Members of the account (each takes a seat).' })
  used!: number;

  @ApiProperty({ example: 5, description: "The plan's included seats." })
  included!: number;

  @ApiProperty({ example: 1, description: 'Add-on seats bought.' })
  purchased!: number;

  @ApiProperty({ example: 6 })
  total!: number;
}

export class CardSummaryDto {
  @ApiProperty({ example: 'visa', type: String, nullable: true })
  brand!: string | null;

  @ApiProperty({ example: '4242', type: String, nullable: true })
  last4!: string | null;
}

export class PendingDowngradeDto {
  @ApiProperty({ example: 'pro' })
  planId!: string;

  @ApiProperty({ example: 'month', enum: ['month', 'year'] })
  interval!: string;

  @ApiProperty({ format: 'date-time' })
  effectiveAt!: string;
}

const STATES = SUBSCRIPTION_STATES;

/** The owner's view (R-SUB-8): everything, the card as brand and last 4 only. */
export class OwnerSubscriptionDto {
  @ApiProperty({ enum: ['owner'] })
  view!: 'owner';

  @ApiProperty({ type: PlanRefDto })
  plan!: PlanRefDto;

  @ApiProperty({ type: String, nullable: true, enum: ['month', 'year'] })
  interval!: string | null;

  @ApiProperty({ enum: STATES, example: 'active' })
  state!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'Next renewal (trial: its end).',
  })
  renewsAt!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'When a cancellation takes effect.',
  })
  endsAt!: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  trialEndsAt!: string | null;

  @ApiProperty({ type: SeatsDto })
  seats!: SeatsDto;

  @ApiProperty({
    type: CardSummaryDto,
    nullable: true,
    description: 'The default card; never more than brand and last 4.',
  })
  card!: CardSummaryDto | null;

  @ApiProperty({
    example: -500,
    description: "Stripe's customer balance in minor units: negative is credit applied to the next invoices.",
  })
  creditBalance!: number;

  @ApiProperty({ type: [BannerDto] })
  banners!: BannerDto[];

  @ApiProperty({ type: PendingDowngradeDto, nullable: true })
  pendingDowngrade!: PendingDowngradeDto | null;
}

/** A member's view: the tier and the renewal date only. */
export class MemberSubscriptionDto {
  @ApiProperty({ enum: ['member'] })
  view!: 'member';

  @ApiProperty({ type: PlanRefDto })
  plan!: PlanRefDto;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  renewsAt!: string | null;
}

export class InternalSeatsDto {
  @ApiProperty({ example: 1 })
  purchased!: number;
}

/** An invoice in the finance/support view: amounts and status, no links, never card details. */
export class InternalInvoiceLineDto {
  @ApiProperty({ format: 'uuid', description: "The mirror's id (`GET /v1/invoices/{id}` takes it)." })
  id!: string;

  @ApiProperty({ example: 'in_1QxYz' })
  stripeInvoiceId!: string;

  @ApiProperty({ nullable: true, type: String, example: '1A2B3C4D-0001' })
  number!: string | null;

  @ApiProperty({ enum: ['draft', 'open', 'paid', 'uncollectible', 'void'], example: 'paid' })
  status!: string;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ example: 2900, description: 'Minor units.' })
  total!: number;

  @ApiProperty({ example: 2900, description: 'Minor units.' })
  amountDue!: number;

  @ApiProperty({ example: 2900, description: 'Minor units.' })
  amountPaid!: number;

  @ApiProperty({ example: 0, description: 'Minor units.' })
  amountRemaining!: number;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  periodEnd!: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  paidAt!: string | null;

  @ApiProperty({ format: 'date-time', description: "Stripe's creation time." })
  createdAt!: string;
}

/** Finance, support and admins: billing status and plan, never card details or secrets. */
export class InternalSubscriptionDto {
  @ApiProperty({ enum: ['internal'] })
  view!: 'internal';

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ type: PlanRefDto })
  plan!: PlanRefDto;

  @ApiProperty({ type: String, nullable: true, enum: ['month', 'year'] })
  interval!: string | null;

  @ApiProperty({ enum: STATES })
  state!: string;

  @ApiProperty({ type: String, nullable: true, example: 'active' })
  stripeStatus!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'sub_1Nxyz' })
  stripeSubscriptionId!: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  currentPeriodEnd!: string | null;

  @ApiProperty()
  cancelAtPeriodEnd!: boolean;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  pastDueSince!: string | null;

  @ApiProperty({ type: InternalSeatsDto })
  seats!: InternalSeatsDto;

  @ApiProperty({ type: [BannerDto] })
  banners!: BannerDto[];

  @ApiProperty({
    type: [InternalInvoiceLineDto],
    description:
      "The account's 10 most recent invoices, newest first; all of them: `GET /v1/invoices?accountId=`.",
  })
  invoices!: InternalInvoiceLineDto[];
}

export class SubscriptionQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Required for finance, support and admin; owners and members see their own.',
  })
  @IsOptional()
  @IsUUID()
  accountId?: string;
}

export class CancelSubscriptionDto {
  @ApiProperty({
    enum: ['period_end', 'now'],
    description:
      '`period_end`: access until the period ends, then Free; `now`: Free at once, nothing refunded.',
  })
  @IsIn(['period_end', 'now'])
  when!: 'period_end' | 'now';
}

export class CancellationResultDto {
  @ApiProperty({ type: OwnerSubscriptionDto })
  subscription!: OwnerSubscriptionDto;

  @ApiProperty({ example: 0, description: 'What was refunded, in minor units: cancelling never refunds.' })
  refunded!: number;

  @ApiProperty({ example: 'Canceled now. Nothing is refunded for the rest of the period.' })
  message!: string;
}

export class BillingPortalDto {
  @ApiProperty({
    example: 'https://billing.stripe.com/p/session/test_123',
    description: 'Stripe Customer Portal; open it in the browser.',
  })
  url!: string;
}
