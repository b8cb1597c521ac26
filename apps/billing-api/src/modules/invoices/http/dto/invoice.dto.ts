import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageMetaDto, PageQueryDto } from '../../../../platform/http/pagination.js';
import { IsInstant } from '../../../../platform/validation/instant.js';
import { INVOICE_STATUSES, type InvoiceStatus } from '../../webhooks/transform-stripe-invoice.js';

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;

export class ListInvoicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Required for finance, support and admin; owners see their own account.',
  })
  @IsOptional()
  @IsUUID()
  accountId?: string;

  @ApiPropertyOptional({
    example: 'paid,open',
    description: `Comma-separated statuses: ${INVOICE_STATUSES.join(', ')}.`,
  })
  @IsOptional()
  @Transform(toList)
  @IsIn(INVOICE_STATUSES, { each: true })
  status?: InvoiceStatus[];

  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description:
      "Created (Stripe's time) at or after: a date-time with Z or an offset, or a date (midnight UTC).",
  })
  @IsOptional()
  @IsInstant()
  createdFrom?: string;

  @ApiPropertyOptional({
    example: '2026-02-01T00:00:00Z',
    description: "Created (Stripe's time) before: a date-time with Z or an offset, or a date (midnight UTC).",
  })
  @IsOptional()
  @IsInstant()
  createdTo?: string;
}

export class InvoiceReceiptDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 2, description: "Of the account's one receipt sequence (payments' included)." })
  number!: number;

  @ApiProperty({ example: 2900, description: 'Paid amount in minor units.' })
  amount!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ format: 'date-time' })
  issuedAt!: string;
}

export class InvoiceDto {
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: "The mirror's id; null for an invoice read from Stripe on demand (not mirrored).",
  })
  id!: string | null;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ example: 'in_1QxYz', description: "Stripe's id; `GET /v1/invoices/{id}` takes either id." })
  stripeInvoiceId!: string;

  @ApiProperty({ nullable: true, type: String, example: 'sub_1QxYz' })
  stripeSubscriptionId!: string | null;

  @ApiProperty({ nullable: true, type: String, example: '1A2B3C4D-0001' })
  number!: string | null;

  @ApiProperty({ enum: INVOICE_STATUSES })
  status!: InvoiceStatus;

  @ApiProperty({ nullable: true, type: String, example: 'subscription_cycle' })
  billingReason!: string | null;

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

  @ApiProperty({ example: '$29.00', description: "The total for the account's locale." })
  formattedTotal!: string;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  periodStart!: string | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  periodEnd!: string | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  paidAt!: string | null;

  @ApiProperty({ format: 'date-time', description: "Stripe's creation time." })
  createdAt!: string;

  @ApiProperty({ nullable: true, type: String, description: "Stripe's hosted invoice page." })
  hostedInvoiceUrl!: string | null;

  @ApiProperty({
    nullable: true,
    type: InvoiceReceiptDto,
    description:
      'The receipt of a paid subscription invoice (null otherwise, and for invoices read from Stripe).',
  })
  receipt!: InvoiceReceiptDto | null;

  @ApiProperty({
    enum: ['mirror', 'stripe'],
    description:
      'Where it was read: the mirror (the last two years), or Stripe on demand (older, or not mirrored).',
  })
  source!: 'mirror' | 'stripe';
}

export class CreditBalanceDto {
  @ApiProperty({
    example: -500,
    description:
      "The Stripe customer's balance in minor units, Stripe's sign: negative is credit that Stripe applies to the next invoices, positive is owed and added to the next invoice.",
  })
  balance!: number;

  @ApiProperty({ example: 500, description: 'The credit, i.e. max(0, -balance), minor units.' })
  credit!: number;

  @ApiProperty({
    nullable: true,
    type: String,
    example: 'usd',
    description: "The customer's currency (that of its latest invoice); null before its first invoice.",
  })
  currency!: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    example: '-$5.00',
    description: "The balance for the account's locale; null without a currency.",
  })
  formattedBalance!: string | null;
}

export class InvoiceListDto extends PageMetaDto {
  @ApiProperty({ type: [InvoiceDto], description: 'Newest first (Stripe creation time, then id).' })
  data!: InvoiceDto[];

  @ApiProperty({ type: CreditBalanceDto })
  creditBalance!: CreditBalanceDto;
}
