import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

export class RequestOwnershipTransferDto {
  @ApiProperty({
    example: 'user_456',
    description: 'The member (user id, the `sub` of their tokens) who is to become the billing owner.',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(/^[^\s]+$/, { message: 'toUserId must not contain spaces' })
  toUserId!: string;
}

export class ConfirmOwnershipTransferDto {
  @ApiProperty({
    description: 'The one-time token of the e-mailed link (its `token` query parameter).',
    example: 'r2V0c3Rh…',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'token must be the base64url token of the link' })
  token!: string;
}

export class OwnershipTransferDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ example: 'user_123', description: 'The owner who asked for the transfer.' })
  fromUserId!: string;

  @ApiProperty({ example: 'user_456', description: 'The member named as the new owner.' })
  toUserId!: string;

  @ApiProperty({
    enum: ['pending', 'confirmed', 'superseded'],
    description:
      'pending until the named member confirms; superseded when the owner named someone else since.',
  })
  status!: 'pending' | 'confirmed' | 'superseded';

  @ApiProperty({ description: 'The link works until this instant (48 hours after the request).' })
  expiresAt!: string;

  @ApiProperty({ nullable: true, type: String })
  confirmedAt!: string | null;

  @ApiProperty()
  createdAt!: string;
}
