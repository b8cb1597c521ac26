import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { PAYMENT_STATUSES, type PaymentStatus } from '@billing/domain';

/** At most 50 keys of at most 40 characters, string values of at most 500 (Stripe's own limits). */
@ValidatorConstraint({ name: 'stringMap' })
export class StringMapConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const entries = Object.entries(value as Record<string, unknown>);
    return (
      entries.length <= 50 &&
      entries.every(
        ([k, v]) =>
          k.length > 0 &&
          k.length <= 40 &&
          !k.includes('[') &&
          !['payment_id', 'account_id'].includes(k) &&
          typeof v === 'string' &&
          v.length <= 500,
      )
    );
  }

  defaultMessage(): string {
    return 'metadata must be a map of at most 50 string values (keys up to 40 characters, values up to 500; payment_id and account_id are reserved)';
  }
}

export class CreatePaymentDto {
  @ApiProperty({ example: 2500, description: 'Integer minor units (cents), > 0 and <= PAYMENT_MAX_AMOUNT.' })
  @IsInt()
  @Min(1)
  amount!: number;

  @ApiProperty({ example: 'usd', description: 'ISO 4217 currency code; its minor-unit exponent applies.' })
  @IsString()
  @Matches(/^[A-Za-z]{3}$/, { message: 'currency must be a three-letter ISO 4217 code' })
  currency!: string;

  @ApiProperty({ example: 'pm_1Nxyz', description: 'A saved method of this account (our id or `pm_…`).' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  paymentMethodId!: string;

  @ApiPropertyOptional({ example: 'Order #1042' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ example: 'ORD-1042', description: "The integrator's order reference." })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  orderReference?: string;

  @ApiPropertyOptional({
    example: { cart: 'c_77' },
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject()
  @Validate(StringMapConstraint)
  metadata?: Record<string, string>;
}

export class PaymentMethodSummaryDto {
  @ApiProperty({ example: 'visa', nullable: true, type: String })
  brand!: string | null;

  @ApiProperty({ example: '4242', nullable: true, type: String })
  last4!: string | null;

  @ApiProperty({ example: 12, nullable: true, type: Number })
  expMonth!: number | null;

  @ApiProperty({ example: 2030, nullable: true, type: Number })
  expYear!: number | null;

  @ApiProperty({ example: 'credit', nullable: true, type: String })
  funding!: string | null;

  @ApiProperty({ example: 'pm_1Nxyz', nullable: true, type: String })
  stripePaymentMethodId!: string | null;
}

export class NextActionDto {
  @ApiProperty({ example: 'use_stripe_sdk', description: "Stripe's next_action type." })
  type!: string;

  @ApiProperty({
    example: 'pi_1Nxyz_secret_abc',
    description: 'Pass to Stripe.js `handleNextAction` to run the 3-D Secure challenge.',
  })
  clientSecret!: string;

  @ApiProperty({ nullable: true, type: String, description: 'The challenge page, for redirect flows.' })
  redirectUrl!: string | null;
}

export class PaymentDto {
  @ApiProperty({ example: '0b6f2d1e-4b1a-4c1e-9a55-0d2f4c1e9a55' })
  id!: string;

  @ApiProperty({ example: '4b1a4c1e-0b6f-2d1e-9a55-0d2f4c1e9a55' })
  accountId!: string;

  @ApiProperty({ example: 2500 })
  amount!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ enum: PAYMENT_STATUSES, example: 'succeeded' })
  status!: PaymentStatus;

  @ApiProperty({ example: 2500 })
  amountReceived!: number;

  @ApiProperty({ example: 0 })
  amountRefunded!: number;

  @ApiProperty({ nullable: true, type: String })
  description!: string | null;

  @ApiProperty({ nullable: true, type: String })
  orderReference!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      'As its creator gave it. The keys the service adds to the PaymentIntent (payment_id, account_id, order_reference) are not repeated here; the order reference is `orderReference`.',
  })
  metadata!: Record<string, string>;

  @ApiProperty({ type: PaymentMethodSummaryDto })
  paymentMethod!: PaymentMethodSummaryDto;

  @ApiProperty({ nullable: true, type: String, example: 'card_declined' })
  failureCode!: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'insufficient_funds' })
  declineCode!: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'pi_1Nxyz' })
  stripePaymentIntentId!: string | null;

  @ApiPropertyOptional({ type: NextActionDto, description: 'Present when status is requires_action.' })
  nextAction?: NextActionDto;

  @ApiProperty({ nullable: true, type: String })
  succeededAt!: string | null;

  @ApiProperty()
  createdAt!: string;

  @ApiProperty()
  updatedAt!: string;
}
