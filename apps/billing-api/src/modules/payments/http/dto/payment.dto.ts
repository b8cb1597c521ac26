import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsInt,
  IsNotEmpty,
  IsObject,
  IsString,
  Matches,
  MaxLength,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import {
  isReservedPaymentMetadataKey,
  MAX_PAYMENT_METADATA_KEYS,
  PAYMENT_STATUSES,
  RESERVED_PAYMENT_METADATA_KEYS,
  STRIPE_METADATA_MAX_KEYS,
  type PaymentStatus,
} from '@billing/domain';
import { IsOptionalNotNull } from '../../../../platform/validation/optional.js';

/** Why a payment's metadata is refused, or null when it is fine. */
function metadataProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'metadata must be an object of string values';
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_PAYMENT_METADATA_KEYS) {
    return `metadata has ${entries.length} keys; at most ${MAX_PAYMENT_METADATA_KEYS} are allowed (Stripe allows ${STRIPE_METADATA_MAX_KEYS} and the service sets ${RESERVED_PAYMENT_METADATA_KEYS.join(', ')})`;
  }
  for (const [k, v] of entries) {
    if (isReservedPaymentMetadataKey(k)) {
      return `metadata key '${k}' is reserved (the service sets ${RESERVED_PAYMENT_METADATA_KEYS.join(', ')}; give the order reference as orderReference)`;
    }
    if (k.length === 0 || k.length > 40 || k.includes('[')) {
      return 'metadata keys must have 1 to 40 characters and no square brackets';
    }
    if (typeof v !== 'string' || v.length > 500) {
      return 'metadata values must be strings of at most 500 characters';
    }
  }
  return null;
}

/**
 * Stripe's metadata limits less what the service adds to the PaymentIntent: at most 47 keys of 1-40
 * characters, string values of at most 500, none of the reserved keys.
 */
@ValidatorConstraint({ name: 'paymentMetadata' })
export class StringMapConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return metadataProblem(value) === null;
  }

  defaultMessage(args?: ValidationArguments): string {
    return metadataProblem(args?.value) ?? 'metadata is invalid';
  }
}

export class CreatePaymentDto {
  @ApiProperty({
    example: 2500,
    description:
      "Integer minor units of `currency` (2500 USD = $25.00; 500 JPY = ¥500; 1250 KWD = 1.250 KWD). At least Stripe's minimum for the currency (50 USD, 30 GBP, 50 JPY, …: `amount_too_small`), at most Stripe's maximum (99999999 in most currencies) and PAYMENT_MAX_AMOUNT (`amount_too_large`); three-decimal currencies (BHD, JOD, KWD, OMR, TND) end in 0, ISK and UGX in 00 (`invalid_amount`).",
  })
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
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ example: 'ORD-1042', description: "The integrator's order reference." })
  @IsOptionalNotNull()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  orderReference?: string;

  @ApiPropertyOptional({
    example: { cart: 'c_77' },
    type: 'object',
    additionalProperties: { type: 'string', maxLength: 500 },
    maxProperties: MAX_PAYMENT_METADATA_KEYS,
    description: `At most ${MAX_PAYMENT_METADATA_KEYS} string values, keys of 1-40 characters. Stripe allows ${STRIPE_METADATA_MAX_KEYS} keys and the service sets ${RESERVED_PAYMENT_METADATA_KEYS.join(', ')} on the PaymentIntent itself, so these keys are reserved.`,
  })
  @IsOptionalNotNull()
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

  @ApiProperty({
    nullable: true,
    type: Number,
    example: 102,
    description:
      "Stripe's processing fee in minor units, from the charge's balance transaction (mirrored from Stripe once the payment is captured; null before, or until it is read). Checked by reconciliation.",
  })
  fee!: number | null;

  @ApiProperty({
    nullable: true,
    type: Number,
    example: 2398,
    description:
      'What reached the Stripe balance (amount captured less the fee), minor units, from the same balance transaction; null until mirrored.',
  })
  net!: number | null;

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
