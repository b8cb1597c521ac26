import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsOptionalNotNull } from '../../../../platform/validation/optional.js';
import { PlanQuoteDto } from './plan-change.dto.js';

export class SeatCountsDto {
  @ApiProperty({ example: 6, description: 'Members of the account (each takes a seat), owner included.' })
  used!: number;

  @ApiProperty({ example: 5, description: "The plan's included seats." })
  included!: number;

  @ApiProperty({ example: 1, description: 'Purchased add-on seats.' })
  purchased!: number;

  @ApiProperty({ example: 6, description: 'included + purchased.' })
  total!: number;
}

export class SeatPriceDto {
  @ApiProperty({
    format: 'uuid',
    description:
      'The seats-only quote that holds this price (`GET /v1/subscription/quotes/{id}`): `PUT /v1/subscription/seats` with this `quoteId` (or `POST /v1/accounts/{id}/members` with `buySeat` and this `quoteId`) is charged exactly this until `priceLockedUntil`.',
  })
  quoteId!: string;

  @ApiProperty({
    example: 386,
    description:
      "Stripe's proration for the change, to the end of the period (minor units): positive for seats bought (charged now), negative for seats released (a credit on the next invoice).",
  })
  amountMinor!: number;

  @ApiProperty({
    example: 386,
    description: "Charged now, after the customer's credit balance (0 for a release).",
  })
  amountDue!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ format: 'date-time', description: 'The instant the proration is computed at.' })
  prorationDate!: string;

  @ApiProperty({
    format: 'date-time',
    description:
      "The quote's expiry (QUOTE_TTL_MINUTES after it was made): applying it later is 409 `quote_expired`.",
  })
  priceLockedUntil!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'The end of the current period.',
  })
  periodEnd!: string | null;
}

export class SeatPriceResultDto {
  @ApiProperty({ example: 1 })
  fromSeats!: number;

  @ApiProperty({ example: 2 })
  toSeats!: number;

  @ApiProperty({ type: SeatPriceDto })
  price!: SeatPriceDto;
}

/** A seat change made: its price, and what Stripe billed. */
export class SeatChangeDto extends SeatPriceResultDto {
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'in_1Q2w3E',
    description:
      'The invoice that charged bought seats now; null for a release (credited on the next invoice).',
  })
  invoiceId!: string | null;

  @ApiProperty({ example: 386, description: 'What that invoice charged (minor units); 0 for a release.' })
  amountCharged!: number;

  @ApiProperty({
    type: () => PlanQuoteDto,
    description: 'The seats-only quote the change applied (now `applied`); `price.quoteId` is its id.',
  })
  quote!: PlanQuoteDto;
}

export class AddMemberDto {
  @ApiProperty({ example: 'user_456', description: "The new member's user id (the `sub` of their tokens)." })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(/^[^\s]+$/, { message: 'userId must not contain spaces' })
  userId!: string;

  @ApiProperty({ example: 'someone@acme.test' })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiPropertyOptional({
    default: false,
    description:
      'When no seat is free: buy the add-on seat the member needs, charged pro rata now, and add the member (a declined charge adds neither). Without it, no free seat is 409 `seat_limit_reached` with the price.',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  buySeat?: boolean;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'With `buySeat`: the `seatPrice.quoteId` of the `seat_limit_reached` refusal (or any seats-only quote for the seats the member needs): the seat is charged exactly that price. Without it, the seat is priced and bought at once. A quote of another change is 409 `quote_mismatch`; an expired, stale or used one `quote_expired`, `quote_stale`, `quote_already_applied`. Ignored when a seat is free.',
  })
  @IsOptionalNotNull()
  @IsUUID()
  quoteId?: string;
}

export class AddedMemberDto {
  @ApiProperty({ example: 'user_456' })
  userId!: string;

  @ApiProperty({ example: 'someone@acme.test' })
  email!: string;

  @ApiProperty({ enum: ['member'], description: 'New members are members; ownership moves by transfer.' })
  role!: 'owner' | 'member';

  @ApiProperty()
  createdAt!: string;
}

export class AddMemberResultDto {
  @ApiProperty({ type: AddedMemberDto })
  member!: AddedMemberDto;

  @ApiProperty({ type: SeatCountsDto })
  seats!: SeatCountsDto;

  @ApiProperty({
    type: SeatChangeDto,
    nullable: true,
    description: 'The add-on seat bought for the member; null when a seat was free.',
  })
  purchase!: SeatChangeDto | null;
}

export class RemoveMemberQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description:
      'Keep every purchased add-on seat. By default, when the account then has more add-on seats than its members need, one is released and its unused time credited on the next invoice.',
  })
  @IsOptionalNotNull()
  @IsIn(['true', 'false'])
  keepSeat?: 'true' | 'false';
}

export class RemoveMemberResultDto {
  @ApiProperty({ type: SeatCountsDto })
  seats!: SeatCountsDto;

  @ApiProperty({
    type: SeatChangeDto,
    nullable: true,
    description:
      'The add-on seat released with the member (its credit lands on the next invoice); null when none.',
  })
  release!: SeatChangeDto | null;
}

export class ChangeSeatsDto {
  @ApiProperty({
    example: 2,
    minimum: 0,
    maximum: 10000,
    description: "The purchased add-on seats wanted (beyond the plan's included seats).",
  })
  @IsInt()
  @Min(0)
  @Max(10000)
  purchased!: number;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'A seats-only quote for `purchased` seats: `price.quoteId` of `GET /v1/subscription/seats/price` or of a `seat_limit_reached` refusal, or a quote of `POST /v1/subscription/quotes` (the current plan and interval with `seats` = `purchased`). The change is applied through it, charged exactly its `amountDueNow`. Without it, the change is priced and applied at once (a quote made for it). A quote of a plan change or of another seat count is 409 `quote_mismatch`; an expired, stale or used one is `quote_expired`, `quote_stale`, `quote_already_applied`.',
  })
  @IsOptionalNotNull()
  @IsUUID()
  quoteId?: string;
}

export class ChangeSeatsResultDto {
  @ApiProperty({ type: SeatCountsDto })
  seats!: SeatCountsDto;

  @ApiProperty({
    type: SeatChangeDto,
    nullable: true,
    description:
      'What changed and what Stripe billed; null when the purchased seats already were that number (a second click changes nothing).',
  })
  change!: SeatChangeDto | null;

  @ApiProperty({
    type: PlanQuoteDto,
    nullable: true,
    description:
      'The seats quote the change applied (`quoteId`, or one made for it), now `applied`: Stripe charged its `amountDueNow` on `stripeInvoiceId` (a release: credited on the next invoice). Null without a change.',
  })
  quote!: PlanQuoteDto | null;
}

export class SeatPriceQueryDto {
  @ApiProperty({
    example: 2,
    minimum: 0,
    maximum: 10000,
    description: 'The purchased add-on seats to price (not the current number).',
  })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10000)
  purchased!: number;
}
