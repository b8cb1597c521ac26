import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../../../platform/database/bigint.transformer.js';
import type { DunningCaseClosed } from '../contracts/dunning.events.js';

export type DunningCaseRowStatus = 'open' | 'closed';

/** One unpaid invoice's dunning (R-DUN-5). Day 0 is the failed attempt's time, on the invoice's clock. */
@Entity('dunning_cases')
export class DunningCaseOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @Column({ name: 'subscription_id', type: 'uuid', nullable: true })
  subscriptionId!: string | null;

  @Column({ name: 'stripe_subscription_id', type: 'text', nullable: true })
  stripeSubscriptionId!: string | null;

  @Column({ name: 'stripe_invoice_id', type: 'text' })
  stripeInvoiceId!: string;

  @Column({ name: 'stripe_customer_id', type: 'text' })
  stripeCustomerId!: string;

  /** The Stripe test clock whose time the steps follow; null on real time. */
  @Column({ name: 'test_clock_id', type: 'text', nullable: true })
  testClockId!: string | null;

  @Column({ name: 'amount_due', type: 'bigint', transformer: bigintTransformer })
  amountDue!: number;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ name: 'hosted_invoice_url', type: 'text', nullable: true })
  hostedInvoiceUrl!: string | null;

  @Column({ type: 'timestamptz' })
  day0!: Date;

  @Column({ name: 'suspend_at', type: 'timestamptz' })
  suspendAt!: Date;

  /** `open` while the invoice is unpaid (suspended accounts included); `closed` with an outcome. */
  @Column({ type: 'text' })
  status!: DunningCaseRowStatus;

  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true })
  suspendedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  outcome!: DunningCaseClosed['outcome'] | null;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
