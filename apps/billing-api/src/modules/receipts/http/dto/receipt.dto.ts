import { ApiProperty } from '@nestjs/swagger';

/** The business the receipt is from: MERCHANT_NAME and MERCHANT_ADDRESS as they were when it was issued. */
export class ReceiptMerchantDto {
  @ApiProperty({ example: 'Acme GmbH' })
  name!: string;

  @ApiProperty({ type: [String], example: ['Hauptstraße 1', '10115 Berlin', 'Germany'] })
  address!: string[];
}

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

  @ApiProperty({
    example: '¥1,000',
    description: "The amount for the account's locale, with the currency's minor digits (JPY 0, KWD 3).",
  })
  formattedAmount!: string;

  @ApiProperty({ format: 'date-time' })
  issuedAt!: string;

  @ApiProperty({ nullable: true, type: String, example: 'visa' })
  methodBrand!: string | null;

  @ApiProperty({ nullable: true, type: String, example: '4242' })
  methodLast4!: string | null;

  @ApiProperty({ type: ReceiptMerchantDto })
  merchant!: ReceiptMerchantDto;
}
