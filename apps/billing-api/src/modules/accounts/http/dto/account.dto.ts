import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { PageMetaDto } from '../../../../platform/http/pagination.js';
import { IsLocale, IsTimeZone } from './locale-and-zone.validators.js';
import { IsOptionalNotNull } from '../../../../platform/validation/optional.js';

export class OwnerInputDto {
  @ApiProperty({ example: 'user_123', description: "The owner's user id (the `sub` of their tokens)." })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(/^[^\s]+$/, { message: 'owner.userId must not contain spaces' })
  userId!: string;

  @ApiProperty({ example: 'owner@acme.test' })
  @IsEmail()
  @MaxLength(254)
  email!: string;
}

export class CreateAccountDto {
  @ApiProperty({ example: 'Acme Corp' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;

  @ApiProperty({ example: 'billing@acme.test', description: 'Where receipts and billing notices go.' })
  @IsEmail()
  @MaxLength(254)
  billingEmail!: string;

  @ApiPropertyOptional({ example: 'en-US', default: 'en-US' })
  @IsOptionalNotNull()
  @IsLocale()
  locale?: string;

  @ApiPropertyOptional({ example: 'America/New_York', default: 'UTC' })
  @IsOptionalNotNull()
  @IsTimeZone()
  timeZone?: string;

  @ApiProperty({ type: OwnerInputDto, description: 'The billing owner of the account.' })
  @ValidateNested()
  @Type(() => OwnerInputDto)
  owner!: OwnerInputDto;
}

export class UpdateAccountSettingsDto {
  @ApiPropertyOptional({ example: 'Acme Corporation' })
  @IsOptionalNotNull()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ example: 'ap@acme.test' })
  @IsOptionalNotNull()
  @IsEmail()
  @MaxLength(254)
  billingEmail?: string;

  @ApiPropertyOptional({ example: 'de-DE' })
  @IsOptionalNotNull()
  @IsLocale()
  locale?: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin' })
  @IsOptionalNotNull()
  @IsTimeZone()
  timeZone?: string;
}

export class AccountDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Acme Corp' })
  name!: string;

  @ApiProperty({ example: 'billing@acme.test' })
  billingEmail!: string;

  @ApiProperty({ example: 'en-US' })
  locale!: string;

  @ApiProperty({ example: 'UTC' })
  timeZone!: string;

  @ApiProperty({ nullable: true, type: String, example: 'cus_NffrFeUfNV2Hib' })
  stripeCustomerId!: string | null;

  @ApiProperty({ description: 'Feature flag billing_enabled (R-PLAN-5): false grants every feature.' })
  billingEnabled!: boolean;

  @ApiProperty()
  createdAt!: string;

  @ApiProperty()
  updatedAt!: string;
}

export class MemberDto {
  @ApiProperty({ example: 'user_123' })
  userId!: string;

  @ApiProperty({ example: 'someone@acme.test' })
  email!: string;

  @ApiProperty({ enum: ['owner', 'member'] })
  role!: 'owner' | 'member';

  @ApiProperty()
  createdAt!: string;
}

export class AccountPageDto extends PageMetaDto {
  @ApiProperty({ type: [AccountDto] })
  data!: AccountDto[];
}

export class MemberListDto {
  @ApiProperty({ type: [MemberDto] })
  data!: MemberDto[];
}
