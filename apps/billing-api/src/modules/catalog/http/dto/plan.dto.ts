import { ApiProperty } from '@nestjs/swagger';

export class PlanPriceDto {
  @ApiProperty({ enum: ['month', 'year'], example: 'month' })
  interval!: 'month' | 'year';

  @ApiProperty({ example: 2900, description: 'The plan price per interval, in minor units of `currency`.' })
  amount!: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 600,
    description: 'One add-on seat per interval, in minor units; null when the plan sells no extra seats.',
  })
  seatAmount!: number | null;
}

export class PlanDto {
  @ApiProperty({ example: 'pro', description: 'The plan id (catalogue data; `free` is the Free tier).' })
  id!: string;

  @ApiProperty({ example: 'Pro' })
  name!: string;

  @ApiProperty({ example: 1, description: 'Orders plans: a higher tier is an upgrade.' })
  tier!: number;

  @ApiProperty({ example: 5, description: 'Seats included in the plan price.' })
  includedSeats!: number;

  @ApiProperty({ example: true, description: 'A 14-day trial without a payment method may start on it.' })
  trialAvailable!: boolean;

  @ApiProperty({ type: [String], example: ['core', 'api', 'integrations'] })
  features!: string[];

  @ApiProperty({ type: [PlanPriceDto], description: 'One entry per interval the plan is sold for.' })
  prices!: PlanPriceDto[];
}

export class PlanListDto {
  @ApiProperty({ example: 'usd', description: 'ISO 4217 currency of every amount, lowercase.' })
  currency!: string;

  @ApiProperty({ type: [PlanDto], description: 'Every plan of the catalogue, by tier.' })
  data!: PlanDto[];
}
