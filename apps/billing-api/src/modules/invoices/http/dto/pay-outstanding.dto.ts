import { ApiProperty } from '@nestjs/swagger';

export class PaidOutstandingInvoiceDto {
  @ApiProperty({ example: 'in_1QxYz' })
  stripeInvoiceId!: string;

  @ApiProperty({ example: 'paid', description: "Stripe's invoice status after the payment." })
  status!: string;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ example: 2900, description: 'Minor units.' })
  amountPaid!: number;

  @ApiProperty({ nullable: true, type: String })
  hostedInvoiceUrl!: string | null;
}

export class PayOutstandingResultDto {
  @ApiProperty({ type: [PaidOutstandingInvoiceDto], description: 'The open invoices paid, oldest first.' })
  invoices!: PaidOutstandingInvoiceDto[];

  @ApiProperty({
    example: 'past_due',
    description:
      "The subscription's state as the app knows it right after paying: it becomes `active` when Stripe's `invoice.paid` is applied (seconds later).",
  })
  subscriptionState!: string;
}
