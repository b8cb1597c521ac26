import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../../../platform/database/bigint.transformer.js';
import type { InvoiceStatus } from '../webhooks/transform-stripe-invoice.js';

/** The mirror of one Stripe invoice (R-SUB-7). Amounts in minor units. */
@Entity('invoices')
export class InvoiceOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @Column({ name: 'stripe_invoice_id', type: 'text' })
  stripeInvoiceId!: string;

  @Column({ name: 'stripe_customer_id', type: 'text' })
  stripeCustomerId!: string;

  @Column({ name: 'stripe_subscription_id', type: 'text', nullable: true })
  stripeSubscriptionId!: string | null;

  @Column({ type: 'text', nullable: true })
  number!: string | null;

  @Column({ type: 'text' })
  status!: InvoiceStatus;

  @Column({ name: 'billing_reason', type: 'text', nullable: true })
  billingReason!: string | null;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ name: 'amount_due', type: 'bigint', transformer: bigintTransformer })
  amountDue!: number;

  @Column({ name: 'amount_paid', type: 'bigint', transformer: bigintTransformer })
  amountPaid!: number;

  @Column({ name: 'amount_remaining', type: 'bigint', transformer: bigintTransformer })
  amountRemaining!: number;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  total!: number;

  @Column({ name: 'attempt_count', type: 'integer' })
  attemptCount!: number;

  @Column({ name: 'next_payment_attempt', type: 'timestamptz', nullable: true })
  nextPaymentAttempt!: Date | null;

  @Column({ name: 'hosted_invoice_url', type: 'text', nullable: true })
  hostedInvoiceUrl!: string | null;

  @Column({ name: 'invoice_pdf', type: 'text', nullable: true })
  invoicePdf!: string | null;

  @Column({ name: 'period_start', type: 'timestamptz', nullable: true })
  periodStart!: Date | null;

  @Column({ name: 'period_end', type: 'timestamptz', nullable: true })
  periodEnd!: Date | null;

  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true })
  paidAt!: Date | null;

  @Column({ name: 'stripe_created_at', type: 'timestamptz' })
  stripeCreatedAt!: Date;

  /** `created` (unix seconds) of the last Stripe event applied (R-SM-3). */
  @Column({ name: 'last_event_created', type: 'bigint', transformer: bigintTransformer })
  lastEventCreated!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
