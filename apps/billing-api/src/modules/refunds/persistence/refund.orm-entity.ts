import type { RefundStatus } from '@billing/domain';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import {
  bigintTransformer,
  nullableBigintTransformer,
} from '../../../platform/database/bigint.transformer.js';

/** One refund of a payment (R-REF), issued by the app or in Stripe's dashboard (R-REF-4). */
@Entity('refunds')
export class RefundOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'payment_id', type: 'uuid' })
  paymentId!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @Column({ name: 'stripe_refund_id', type: 'text', nullable: true })
  stripeRefundId!: string | null;

  @Column({ name: 'stripe_charge_id', type: 'text', nullable: true })
  stripeChargeId!: string | null;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  amount!: number;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ type: 'text' })
  status!: RefundStatus;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  /** Why, in the refunder's words: required with reason `other`; sent to Stripe as `metadata.note`. */
  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason!: string | null;

  /** The balance transaction of the money moved (a payment's charge, a refund), mirrored from Stripe. */
  @Column({ name: 'balance_transaction_id', type: 'text', nullable: true })
  balanceTransactionId!: string | null;

  /** Stripe's fee in minor units (the balance transaction's `fee`); null until mirrored. */
  @Column({ type: 'bigint', nullable: true, transformer: nullableBigintTransformer })
  fee!: number | null;

  /** What reached (or left) the balance, signed as Stripe signs it (`net`); null until mirrored. */
  @Column({ type: 'bigint', nullable: true, transformer: nullableBigintTransformer })
  net!: number | null;

  @Column({ type: 'text' })
  origin!: 'api' | 'stripe';

  @Column({ name: 'stripe_created_at', type: 'timestamptz', nullable: true })
  stripeCreatedAt!: Date | null;

  @Column({
    name: 'last_event_created',
    type: 'bigint',
    nullable: true,
    transformer: nullableBigintTransformer,
  })
  lastEventCreated!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
