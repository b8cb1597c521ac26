import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PageQueryDto } from '../../../../platform/http/pagination.js';
import { IsInstant } from '../../../../platform/validation/instant.js';

/** `GET /v1/admin/accounts`: find an account (R-API-4); every filter is optional and they combine (AND). */
export class ListAccountsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'billing@acme.test',
    description: 'Exact billing email, case-insensitive.',
  })
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  billingEmail?: string;

  @ApiPropertyOptional({ example: 'cus_NffrFeUfNV2Hib', description: 'Exact Stripe customer id.' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  @Matches(/^cus_[A-Za-z0-9]+$/, { message: 'stripeCustomerId must be a Stripe customer id (cus_...)' })
  stripeCustomerId?: string;

  @ApiPropertyOptional({
    example: 'acme',
    minLength: 2,
    maxLength: 200,
    description: 'Part of the name, case-insensitive; `%` and `_` match themselves.',
  })
  @IsOptional()
  @IsString()
  @MinLength(2)
  @MaxLength(200)
  @Matches(/^[^\p{Cc}]+$/u, { message: 'name must not contain control characters' })
  name?: string;

  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description: 'Created at or after (a date means midnight UTC).',
  })
  @IsOptional()
  @IsInstant()
  createdFrom?: string;

  @ApiPropertyOptional({
    example: '2026-02-01T00:00:00Z',
    description: 'Created before (a date means midnight UTC); not before `createdFrom`.',
  })
  @IsOptional()
  @IsInstant()
  createdTo?: string;
}
