import type { BillingInterval, PlanId, SubscriptionState } from '@billing/domain';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import {
  bigintTransformer,
  nullableBigintTransformer,
} from '../../../platform/database/bigint.transformer.js';

/**
 * One Stripe subscription: what Stripe reports of it (status, prices, periods, cancellation) and the
 * app's side, which only the subscription machine changes (state, plan, interval, seats, dunning
 * clock, scheduled downgrade; R-SM, R-SUB-2).
 */
@Entity('subscriptions')
export class SubscriptionOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @Column({ name: 'stripe_subscription_id', type: 'text' })
  stripeSubscriptionId!: string;

  @Column({ name: 'stripe_customer_id', type: 'text' })
  stripeCustomerId!: string;

  @Column({ name: 'stripe_status', type: 'text' })
  stripeStatus!: string;

  @Column({ type: 'text' })
  state!: SubscriptionState;

  @Column({ name: 'plan_id', type: 'text', nullable: true })
  planId!: PlanId | null;

  @Column({ name: 'billing_interval', type: 'text', nullable: true })
  interval!: BillingInterval | null;

  @Column({ name: 'base_price_id', type: 'text', nullable: true })
  basePriceId!: string | null;

  @Column({ name: 'seat_price_id', type: 'text', nullable: true })
  seatPriceId!: string | null;

  /** Purchased add-on seats (the seat item's quantity). */
  @Column({ type: 'integer' })
  seats!: number;

  @Column({ type: 'text', nullable: true })
  currency!: string | null;

  @Column({ name: 'cancel_at_period_end', type: 'boolean' })
  cancelAtPeriodEnd!: boolean;

  @Column({ name: 'cancel_at', type: 'timestamptz', nullable: true })
  cancelAt!: Date | null;

  @Column({ name: 'canceled_at', type: 'timestamptz', nullable: true })
  canceledAt!: Date | null;

  @Column({ name: 'cancellation_reason', type: 'text', nullable: true })
  cancellationReason!: string | null;

  @Column({ name: 'current_period_start', type: 'timestamptz', nullable: true })
  currentPeriodStart!: Date | null;

  @Column({ name: 'current_period_end', type: 'timestamptz', nullable: true })
  currentPeriodEnd!: Date | null;

  @Column({ name: 'trial_start', type: 'timestamptz', nullable: true })
  trialStart!: Date | null;

  @Column({ name: 'trial_end', type: 'timestamptz', nullable: true })
  trialEnd!: Date | null;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  /** The app's dunning clock (the machine's): when the payment that made it past_due failed. */
  @Column({ name: 'past_due_since', type: 'timestamptz', nullable: true })
  pastDueSince!: Date | null;

  /** Failed payment attempts since it became past_due (the machine's; 0 outside dunning). */
  @Column({ name: 'failed_attempts', type: 'integer' })
  failedAttempts!: number;

  /** A downgrade the machine scheduled for the period end (R-SUB-4): plan, interval, when. */
  @Column({ name: 'pending_plan_id', type: 'text', nullable: true })
  pendingPlanId!: PlanId | null;

  @Column({ name: 'pending_interval', type: 'text', nullable: true })
  pendingInterval!: BillingInterval | null;

  @Column({ name: 'pending_effective_at', type: 'timestamptz', nullable: true })
  pendingEffectiveAt!: Date | null;

  @Column({ name: 'latest_invoice_id', type: 'text', nullable: true })
  latestInvoiceId!: string | null;

  @Column({ name: 'stripe_created_at', type: 'timestamptz', nullable: true })
  stripeCreatedAt!: Date | null;

  /** The Stripe test clock the subscription runs on (test mode), null on real time. */
  @Column({ name: 'test_clock_id', type: 'text', nullable: true })
  testClockId!: string | null;

  /** `created` (unix seconds) of the last Stripe event applied (R-SM-3). */
  @Column({ name: 'last_event_created', type: 'bigint', transformer: bigintTransformer })
  lastEventCreated!: number;

  /**
   * Stripe's time (unix seconds) of the last change the app made at Stripe itself (a quote applied);
   * the mirror re-reads events created up to then rather than applying their payload (R-SM-3).
   */
  @Column({
    name: 'app_changed_stripe_at',
    type: 'bigint',
    nullable: true,
    transformer: nullableBigintTransformer,
  })
  appChangedStripeAt!: number | null;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
