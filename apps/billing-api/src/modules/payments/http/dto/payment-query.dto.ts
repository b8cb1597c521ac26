import { PAYMENT_STATUSES, type PaymentStatus } from '@billing/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, Max, IsOptional, IsString, IsUUID, Matches, MaxLength, Min } from 'class-validator';
import { PageMetaDto, PageQueryDto } from '../../../../platform/http/pagination.js';
import { IsInstant } from '../../../../platform/validation/instant.js';
import { PaymentDto } from './payment.dto.js';

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;

export class ListPaymentsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description: 'Required for finance, support and admin; owners see their own account.',
  })
  @IsOptional()
  @IsUUID()
  accountId?: string;

  @ApiPropertyOptional({ example: 'succeeded,refunded', description: 'Comma-separated statuses.' })
  @IsOptional()
  @Transform(toList)
  @IsIn(PAYMENT_STATUSES, { each: true })
  status?: PaymentStatus[];

  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description: 'Created at or after: a date-time with Z or an offset, or a date (midnight UTC).',
  })
  @IsOptional()
  @IsInstant()
  createdFrom?: string;

  @ApiPropertyOptional({
    example: '2026-02-01T00:00:00Z',
    description: 'Created before: a date-time with Z or an offset, or a date (midnight UTC).',
  })
  @IsOptional()
  @IsInstant()
  createdTo?: string;

  @ApiPropertyOptional({ example: 100, description: 'Minor units, inclusive.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  // Past 2^53 a JSON number is no longer the integer it reads as; PostgreSQL's bigint ends soon after.
  @Max(Number.MAX_SAFE_INTEGER)
  amountMin?: number;

  @ApiPropertyOptional({ example: 100000, description: 'Minor units, inclusive.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  // Past 2^53 a JSON number is no longer the integer it reads as; PostgreSQL's bigint ends soon after.
  @Max(Number.MAX_SAFE_INTEGER)
  amountMax?: number;

  @ApiPropertyOptional({ example: 'ORD-1042' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  orderReference?: string;

  @ApiPropertyOptional({ example: 'usd' })
  @IsOptional()
  @Matches(/^[A-Za-z]{3}$/)
  currency?: string;

  @ApiPropertyOptional({ enum: ['created', 'amount'], default: 'created' })
  @IsOptional()
  @IsIn(['created', 'amount'])
  sort?: 'created' | 'amount';

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  direction?: 'asc' | 'desc';
}

export class PaymentListDto extends PageMetaDto {
  @ApiProperty({ type: [PaymentDto] })
  data!: PaymentDto[];
}

export class PaymentStatusChangeDto {
  @ApiProperty({ nullable: true, type: String, example: 'pending' })
  fromStatus!: string | null;

  @ApiProperty({ example: 'succeeded' })
  toStatus!: string;

  @ApiProperty({ example: 'stripe_event', description: 'user, system, stripe_event or reconciliation' })
  causeType!: string;

  @ApiProperty({ nullable: true, type: String, example: 'evt_123' })
  causeId!: string | null;

  @ApiProperty({ nullable: true, type: String })
  declineCode!: string | null;

  @ApiProperty()
  at!: string;
}

export class PaymentRefundDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ example: 500 })
  amount!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ example: 'succeeded' })
  status!: string;

  @ApiProperty({ nullable: true, type: String, example: 'requested_by_customer' })
  reason!: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    example: 'Goodwill gesture',
    description:
      'The note given with the refund (required with reason `other`); null for refunds made in Stripe.',
  })
  note!: string | null;

  @ApiProperty()
  createdAt!: string;
}

export class PaymentDetailDto extends PaymentDto {
  @ApiProperty({ type: [PaymentStatusChangeDto], description: 'Oldest first.' })
  statusHistory!: PaymentStatusChangeDto[];

  @ApiProperty({ type: [PaymentRefundDto] })
  refunds!: PaymentRefundDto[];
}
