import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';

export class SetBillingFlagDto {
  @ApiProperty({ description: 'Whether billing applies to the account (with the global rollout).' })
  @IsBoolean()
  billingEnabled!: boolean;
}

export class BillingFlagDto {
  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty()
  billingEnabled!: boolean;

  @ApiProperty({ example: 100 })
  rolloutPercent!: number;

  @ApiProperty({ description: "The account's stable bucket is below the rollout percentage." })
  inRollout!: boolean;

  @ApiProperty({ description: 'The account is billed: its flag is on and it is inside the rollout.' })
  billed!: boolean;
}

export class SetBillingRolloutDto {
  @ApiProperty({
    minimum: 0,
    maximum: 100,
    example: 30,
    description: 'Integer percentage of accounts billed.',
  })
  @IsInt()
  @Min(0)
  @Max(100)
  percent!: number;
}

export class BillingRolloutDto {
  @ApiProperty({ minimum: 0, maximum: 100 })
  percent!: number;

  @ApiProperty({ minimum: 0, maximum: 100 })
  previousPercent!: number;

  @ApiProperty({
    description:
      'Accounts whose flag is on that the change moved into or out of billing (each announced as entitlements.updated).',
  })
  accountsMoved!: number;
}
