import type { PaymentStatus } from '@billing/domain';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ActorType } from '../../../platform/context/request-context.js';

/** One row per status change of a payment: from, to, what caused it and when (R-PAY-6). Append-only. */
@Entity('payment_status_history')
export class PaymentStatusHistoryOrmEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'payment_id', type: 'uuid' })
  paymentId!: string;

  @Column({ name: 'from_status', type: 'text', nullable: true })
  fromStatus!: PaymentStatus | null;

  @Column({ name: 'to_status', type: 'text' })
  toStatus!: PaymentStatus;

  @Column({ name: 'cause_type', type: 'text' })
  causeType!: ActorType;

  /** The Stripe event id, user id or job name. */
  @Column({ name: 'cause_id', type: 'text', nullable: true })
  causeId!: string | null;

  @Column({ name: 'decline_code', type: 'text', nullable: true })
  declineCode!: string | null;

  @Column({ type: 'timestamptz' })
  at!: Date;
}
