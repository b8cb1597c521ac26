import { ApiProperty } from '@nestjs/swagger';

export class SetupIntentDto {
  @ApiProperty({ example: 'seti_1Nxyz', description: "The SetupIntent's id." })
  id!: string;

  @ApiProperty({
    example: 'seti_1Nxyz_secret_abc',
    description: 'Pass to Stripe Elements (`confirmSetup`) in the browser; the service never sees card data.',
  })
  clientSecret!: string;

  @ApiProperty({ example: 'requires_payment_method' })
  status!: string;
}

export class PaymentMethodDto {
  @ApiProperty({ example: '0b6f2d1e-4b1a-4c1e-9a55-0d2f4c1e9a55', description: 'Our id of the method.' })
  id!: string;

  @ApiProperty({ example: 'pm_1Nxyz', description: "Stripe's id; either id is accepted in paths." })
  stripePaymentMethodId!: string;

  @ApiProperty({ example: 'card' })
  type!: string;

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

  @ApiProperty({ example: true, description: "The customer's default method for payments and invoices." })
  isDefault!: boolean;

  @ApiProperty({ example: 'attached', enum: ['attached', 'detached'] })
  status!: 'attached' | 'detached';
}

export class PaymentMethodListDto {
  @ApiProperty({ type: [PaymentMethodDto] })
  data!: PaymentMethodDto[];
}
