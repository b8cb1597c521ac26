import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export class StartCheckoutDto {
  @ApiProperty({
    example: 'pro',
    description: 'A paid plan of `GET /v1/plans`.',
    pattern: '^[a-z][a-z0-9_-]{0,39}$',
  })
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{0,39}$/)
  plan!: string;

  @ApiProperty({ enum: ['month', 'year'] })
  @IsIn(['month', 'year'])
  interval!: 'month' | 'year';

  @ApiPropertyOptional({
    example: 0,
    minimum: 0,
    maximum: 10000,
    default: 0,
    description: "Add-on seats to buy beyond the plan's included seats.",
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10000)
  seats?: number;
}

export class CheckoutSessionDto {
  @ApiProperty({ example: 'cs_test_a1b2' })
  sessionId!: string;

  @ApiProperty({
    example: 'https://checkout.stripe.com/c/pay/cs_test_a1b2',
    description: 'Open it in the browser.',
  })
  url!: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;

  @ApiProperty({ description: 'The open session of the same plan and seats was returned (a double click).' })
  reused!: boolean;
}

export class CheckoutCompleteQueryDto {
  @ApiProperty({ example: 'cs_test_a1b2', pattern: '^cs_[A-Za-z0-9_]{1,200}$' })
  @IsString()
  @Matches(/^cs_[A-Za-z0-9_]{1,200}$/)
  session_id!: string;
}

export class CheckoutCompletionDto {
  @ApiProperty({ example: 'cs_test_a1b2' })
  sessionId!: string;

  @ApiProperty({ example: 'complete', enum: ['open', 'complete', 'expired'] })
  status!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'active',
    description: "The subscription's state once mirrored.",
  })
  state!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'pro' })
  planId!: string | null;
}

export class StartTrialDto {
  @ApiProperty({
    example: 'pro',
    description: 'A trial-eligible plan (Pro or Business by default).',
    pattern: '^[a-z][a-z0-9_-]{0,39}$',
  })
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{0,39}$/)
  plan!: string;
}
