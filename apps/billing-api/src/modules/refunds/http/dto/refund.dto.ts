import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { PageMetaDto, PageQueryDto } from '../../../../platform/http/pagination.js';
import { IsOptionalNotNull } from '../../../../platform/validation/optional.js';

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'other'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export class CreateRefundDto {
  @ApiPropertyOptional({ example: 500, description: 'Minor units; defaults to everything still refundable.' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  // Past 2^53 a JSON number is no longer the integer it reads as; PostgreSQL's bigint ends soon after.
  @Max(Number.MAX_SAFE_INTEGER)
  amount?: number;

  @ApiProperty({ enum: REFUND_REASONS, example: 'requested_by_customer' })
  @IsIn(REFUND_REASONS)
  reason!: RefundReason;

  @ApiPropertyOptional({ example: 'Goodwill gesture', description: 'Required when reason is `other`.' })
  @ValidateIf((o: CreateRefundDto) => o.reason === 'other' || o.note !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  note?: string;
}

export class RefundDto {
  @ApiProperty({ example: '7d9b0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6' })
  id!: string;

  @ApiProperty()
  paymentId!: string;

  @ApiProperty()
  accountId!: string;

  @ApiProperty({ example: 500 })
  amount!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({
    example: 'pending',
    enum: ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'],
  })
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

  @ApiProperty({ nullable: true, type: String, example: 're_1Nxyz' })
  stripeRefundId!: string | null;

  @ApiProperty({ nullable: true, type: String })
  failureReason!: string | null;

  @ApiProperty({ example: 'api', enum: ['api', 'stripe'] })
  origin!: string;

  @ApiProperty()
  createdAt!: string;
}

export class ListRefundsQueryDto extends PageQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  accountId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  paymentId?: string;

  @ApiPropertyOptional({ enum: ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] })
  @IsOptional()
  @IsIn(['pending', 'requires_action', 'succeeded', 'failed', 'canceled'])
  status?: string;
}

export class RefundListDto extends PageMetaDto {
  @ApiProperty({ type: [RefundDto] })
  data!: RefundDto[];
}
