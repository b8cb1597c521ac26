import { ApiProperty } from '@nestjs/swagger';

export class ReceiptDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ format: 'uuid' })
  paymentId!: string;

  @ApiProperty({ example: 42, description: 'Sequential per account, without gaps.' })
  number!: number;

  @ApiProperty({ example: 1999, description: 'Captured amount in minor units.' })
  amount!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ format: 'date-time' })
  issuedAt!: string;

  @ApiProperty({ nullable: true, type: String, example: 'visa' })
  methodBrand!: string | null;

  @ApiProperty({ nullable: true, type: String, example: '4242' })
  methodLast4!: string | null;
}
