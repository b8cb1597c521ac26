import type { BillingInterval, PlanId, PlanQuoteKind } from '@billing/domain';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../../../platform/database/bigint.transformer.js';

/** How far a quote is in being applied: free to apply, claimed by one change request, or applied. */
export type SubscriptionQuoteStatus = 'open' | 'applying' | 'applied';

/**
 * A plan or seat change priced by Stripe's invoice preview at a fixed `proration_date` (R-SUB-3):
 * the amounts Stripe said, the target prices, and what the subscription was when it was priced.
 * Amounts in minor units of `currency`.
 */
@Entity('subscription_quotes')
export class SubscriptionQuoteOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @Column({ name: 'subscription_id', type: 'uuid' })
  subscriptionId!: string;

  @Column({ name: 'stripe_subscription_id', type: 'text' })
  stripeSubscriptionId!: string;

  @Column({ type: 'text' })
  kind!: PlanQuoteKind;

  @Column({ name: 'from_plan_id', type: 'text' })
  fromPlanId!: PlanId;

  @Column({ name: 'from_interval', type: 'text' })
  fromInterval!: BillingInterval;

  @Column({ name: 'from_seats', type: 'integer' })
  fromSeats!: number;

  @Column({ name: 'plan_id', type: 'text' })
  planId!: PlanId;

  @Column({ name: 'billing_interval', type: 'text' })
  interval!: BillingInterval;

  /** Purchased add-on seats after the change. */
  @Column({ type: 'integer' })
  seats!: number;

  @Column({ name: 'base_price_id', type: 'text' })
  basePriceId!: string;

  @Column({ name: 'seat_price_id', type: 'text', nullable: true })
  seatPriceId!: string | null;

  @Column({ type: 'text' })
  currency!: string;

  /** What the change charges now (after the customer's credit balance); 0 when billed later. */
  @Column({ name: 'amount_due_now', type: 'bigint', transformer: bigintTransformer })
  amountDueNow!: number;

  /** The unused time of the current items that Stripe credits (the negative proration lines). */
  @Column({ type: 'bigint', transformer: bigintTransformer })
  credit!: number;

  /** The next (renewal) invoice's total after the change, before any credit balance. */
  @Column({ name: 'next_invoice_amount', type: 'bigint', transformer: bigintTransformer })
  nextInvoiceAmount!: number;

  @Column({ name: 'next_invoice_at', type: 'timestamptz' })
  nextInvoiceAt!: Date;

  /** The customer's credit balance the billed invoice uses. */
  @Column({ name: 'credit_balance_applied', type: 'bigint', transformer: bigintTransformer })
  creditBalanceApplied!: number;

  /** Unix seconds: the instant Stripe prorated at, sent again when the change is applied. */
  /** What the billed invoice added to the customer's credit balance (a credit larger than the charge). */
  @Column({ name: 'credit_balance_added', type: 'bigint', transformer: bigintTransformer })
  creditBalanceAdded!: number;

  /** The signed total of Stripe's proration lines (positive: charged for the rest of the period). */
  @Column({ name: 'proration_amount', type: 'bigint', transformer: bigintTransformer })
  prorationAmount!: number;

  @Column({ name: 'proration_date', type: 'bigint', transformer: bigintTransformer })
  prorationDate!: number;

  /**
   * The change restarts the billing cycle (an interval change, invoiced at once in either direction);
   * not during a trial, where the new interval starts at the trial's end.
   */
  @Column({ name: 'billing_cycle_restarts', type: 'boolean' })
  billingCycleRestarts!: boolean;

  @Column({ name: 'subscription_version', type: 'integer' })
  subscriptionVersion!: number;

  @Column({ type: 'text' })
  fingerprint!: string;

  @Column({ type: 'text' })
  status!: SubscriptionQuoteStatus;

  /** Stripe calls made to apply it so far (part of the Stripe idempotency key). */
  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt!: Date | null;

  @Column({ name: 'applied_at', type: 'timestamptz', nullable: true })
  appliedAt!: Date | null;

  /** The invoice the change was charged on (upgrades and added seats). */
  @Column({ name: 'stripe_invoice_id', type: 'text', nullable: true })
  stripeInvoiceId!: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
