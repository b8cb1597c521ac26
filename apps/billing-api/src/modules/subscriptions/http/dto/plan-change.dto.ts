import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { StartCheckoutDto } from './start-subscription.dto.js';
import { OwnerSubscriptionDto } from './subscription-view.dto.js';

/**
 * The target of a quote: a paid plan of `GET /v1/plans`, a billing interval (another one than the
 * current restarts the billing cycle at the change, invoiced at once), and the add-on seats after the
 * change (the current plan with another seat count is a seat-only change; the current plan and seats
 * while a downgrade is scheduled withdraw it).
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

  @ApiProperty({
    format: 'date-time',
    description:
      'When it is billed: the end of the current period, or of the new one when the change restarts the billing cycle (an interval change; the new period runs from the moment the change is applied, so it ends up to the quote lifetime later).',
  })
  at!: string;
}

export class PlanQuoteDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({
    enum: ['upgrade', 'downgrade', 'seats_added', 'seats_removed', 'downgrade_withdrawn'],
    description:
      "Upgrades and added seats are charged now (prorated by Stripe); downgrades and removed seats credit the unused time to the next invoice, and a downgrade keeps the current tier until the period ends. A change of the billing interval (`billingCycleRestarts`) is invoiced now in either direction and applies at once: monthly to yearly is an upgrade, yearly to monthly a downgrade whose credit usually exceeds the first month (the rest goes to the credit balance, `creditBalanceAdded`). `downgrade_withdrawn`: the current plan chosen again while a downgrade is scheduled; nothing is charged now, the downgrade's prorations are reversed on the next invoice.",
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
      'Charged when the change is applied, to the cent (after the credit balance); 0 for a downgrade of the same interval and a withdrawal.',
  })
  amountDueNow!: number;

  @ApiProperty({ example: 1450, description: 'Unused time of the current items that Stripe credits.' })
  credit!: number;

  @ApiProperty({ example: 0, description: "The customer's credit balance the billed invoice uses." })
  creditBalanceApplied!: number;

  @ApiProperty({
    example: 0,
    minimum: 0,
    description:
      "What the change adds to the customer's credit balance when the credit exceeds the charge (an interval change billed now: yearly to monthly); 0 otherwise. Stripe uses it on the next invoices.",
  })
  creditBalanceAdded!: number;

  @ApiProperty({
    example: 386,
    description:
      "The signed total of Stripe's proration lines: positive is charged for the rest of the period, negative credited (the price of a seat change).",
  })
  prorationAmount!: number;

  @ApiProperty({
    description:
      'True for a change of the billing interval: Stripe restarts the billing cycle at the change and invoices the new period at once, less the unused time.',
  })
  billingCycleRestarts!: boolean;

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
