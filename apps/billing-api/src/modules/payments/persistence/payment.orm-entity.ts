import type { PaymentStatus } from '@billing/domain';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import {
  bigintTransformer,
  nullableBigintTransformer,
} from '../../../platform/database/bigint.transformer.js';

/** Where a payment row came from: created through our API, or mirrored from Stripe. */
export type PaymentOrigin = 'api' | 'stripe';

/** One payment per PaymentIntent (R-PAY-1). Amounts are integer minor units (R-CORE-1). */
@Entity('payments')
export class PaymentOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @Column({ name: 'stripe_payment_intent_id', type: 'text', nullable: true })
  stripePaymentIntentId!: string | null;

  @Column({ name: 'stripe_customer_id', type: 'text', nullable: true })
  stripeCustomerId!: string | null;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  amount!: number;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ type: 'text' })
  status!: PaymentStatus;

  @Column({ name: 'amount_received', type: 'bigint', transformer: bigintTransformer })
  amountReceived!: number;

  /** Succeeded refunds, in minor units. */
  @Column({ name: 'amount_refunded', type: 'bigint', transformer: bigintTransformer })
  amountRefunded!: number;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ name: 'order_reference', type: 'text', nullable: true })
  orderReference!: string | null;

  @Column({ type: 'jsonb' })
  metadata!: Record<string, string>;

  @Column({ name: 'stripe_payment_method_id', type: 'text', nullable: true })
  stripePaymentMethodId!: string | null;

  @Column({ name: 'payment_method_type', type: 'text', nullable: true })
  paymentMethodType!: string | null;

  @Column({ name: 'card_brand', type: 'text', nullable: true })
  cardBrand!: string | null;

  @Column({ name: 'card_last4', type: 'text', nullable: true })
  cardLast4!: string | null;

  @Column({ name: 'card_exp_month', type: 'integer', nullable: true })
  cardExpMonth!: number | null;

  @Column({ name: 'card_exp_year', type: 'integer', nullable: true })
  cardExpYear!: number | null;

  @Column({ name: 'card_funding', type: 'text', nullable: true })
  cardFunding!: string | null;

  @Column({ name: 'failure_code', type: 'text', nullable: true })
  failureCode!: string | null;

  @Column({ name: 'decline_code', type: 'text', nullable: true })
  declineCode!: string | null;

  @Column({ name: 'failure_message', type: 'text', nullable: true })
  failureMessage!: string | null;

  @Column({ name: 'latest_charge_id', type: 'text', nullable: true })
  latestChargeId!: string | null;

  /** The balance transaction of the money moved (a payment's charge, a refund), mirrored from Stripe. */
  @Column({ name: 'balance_transaction_id', type: 'text', nullable: true })
  balanceTransactionId!: string | null;

  /** Stripe's fee in minor units (the balance transaction's `fee`); null until mirrored. */
  @Column({ type: 'bigint', nullable: true, transformer: nullableBigintTransformer })
  fee!: number | null;

  /** What reached (or left) the balance, signed as Stripe signs it (`net`); null until mirrored. */
  @Column({ type: 'bigint', nullable: true, transformer: nullableBigintTransformer })
  net!: number | null;

  @Column({ name: 'checkout_session_id', type: 'text', nullable: true })
  checkoutSessionId!: string | null;

  @Column({ type: 'text' })
  origin!: PaymentOrigin;

  @Column({ name: 'succeeded_at', type: 'timestamptz', nullable: true })
  succeededAt!: Date | null;

  @Column({ name: 'stripe_created_at', type: 'timestamptz', nullable: true })
  stripeCreatedAt!: Date | null;

  /** `created` (unix seconds) of the last Stripe event applied (R-SM-3). */
  @Column({
    name: 'last_event_created',
    type: 'bigint',
    nullable: true,
    transformer: nullableBigintTransformer,
  })
  lastEventCreated!: number | null;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** A payment row's method details before they are known (filled in from the method's row or its charge). */
export const NO_CARD_DETAILS = {
  paymentMethodType: null,
  cardBrand: null,
  cardLast4: null,
  cardExpMonth: null,
  cardExpYear: null,
  cardFunding: null,
} as const satisfies Partial<PaymentOrmEntity>;

/** A payment row's balance transaction before it is mirrored (the charge has not been captured, or not read). */
export const NO_BALANCE = {
  balanceTransactionId: null,
  fee: null,
  net: null,
} as const satisfies Partial<PaymentOrmEntity>;
