import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { StartCheckoutDto } from './start-subscription.dto.js';
import { OwnerSubscriptionDto } from './subscription-view.dto.js';

/**
 * The target of a quote: a paid plan of `GET /v1/plans`, the current billing interval (changing it
 * mid-period is refused, 400), and the add-on seats after the change (the current plan with another
 * seat count is a seat-only change).
 */
export class CreateQuoteDto extends StartCheckoutDto {}

export class QuoteIdParamDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id!: string;
}

export class ApplyQuoteDto {
  @ApiProperty({ format: 'uuid', description: 'A quote of `POST /v1/subscription/quotes`.' })
  @IsUUID()
  quoteId!: string;
}

class QuotePlanDto {
  @ApiProperty({ example: 'pro' })
  planId!: string;

  @ApiProperty({ enum: ['month', 'year'] })
  interval!: string;

  @ApiProperty({ example: 0, description: 'Purchased add-on seats.' })
  seats!: number;
}

class NextInvoiceDto {
  @ApiProperty({
    example: 9900,
    description:
      "The next renewal invoice's total after the change (minor units), before any credit balance.",
  })
  amount!: number;

  @ApiProperty({ format: 'date-time', description: 'When it is billed: the end of the current period.' })
  at!: string;
}

export class PlanQuoteDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({
    enum: ['upgrade', 'downgrade', 'seats_added', 'seats_removed'],
    description:
      'Upgrades and added seats are charged now (prorated by Stripe); downgrades and removed seats credit the unused time to the next invoice, and a downgrade keeps the current tier until the period ends.',
  })
  kind!: string;

  @ApiProperty({ type: QuotePlanDto })
  from!: QuotePlanDto;

  @ApiProperty({ type: QuotePlanDto })
  to!: QuotePlanDto;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({
    example: 3500,
    description:
      'Charged when the change is applied, to the cent (after the credit balance); 0 for a downgrade.',
  })
  amountDueNow!: number;

  @ApiProperty({ example: 1450, description: 'Unused time of the current items that Stripe credits.' })
  credit!: number;

  @ApiProperty({ example: 0, description: "The customer's credit balance the billed invoice uses." })
  creditBalanceApplied!: number;

  @ApiProperty({ type: NextInvoiceDto })
  nextInvoice!: NextInvoiceDto;

  @ApiProperty({
    format: 'date-time',
    description: 'The instant Stripe prorated at; the change uses it too.',
  })
  prorationDate!: string;

  @ApiProperty({ description: 'The subscription version the quote was priced against.' })
  subscriptionVersion!: number;

  @ApiProperty({ enum: ['open', 'applying', 'applied'] })
  status!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  appliedAt!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'The Stripe invoice the change was charged on.' })
  stripeInvoiceId!: string | null;

  @ApiProperty({ format: 'date-time', description: 'After this, applying it is 409 `quote_expired`.' })
  expiresAt!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class PlanChangeResultDto {
  @ApiProperty({ type: OwnerSubscriptionDto })
  subscription!: OwnerSubscriptionDto;

  @ApiProperty({ type: PlanQuoteDto })
  quote!: PlanQuoteDto;
}
