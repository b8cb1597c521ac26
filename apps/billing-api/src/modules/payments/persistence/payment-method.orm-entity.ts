import { Column, Entity, PrimaryColumn } from 'typeorm';
import { nullableBigintTransformer } from '../../../platform/database/bigint.transformer.js';

export type PaymentMethodStatus = 'attached' | 'detached';

/** A customer's saved payment method (R-PAY-2): brand, last 4, expiry and funding only, never the number. */
@Entity('payment_methods')
export class PaymentMethodOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'stripe_payment_method_id', type: 'text' })
  stripePaymentMethodId!: string;

  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId!: string | null;

  @Column({ name: 'stripe_customer_id', type: 'text', nullable: true })
  stripeCustomerId!: string | null;

  @Column({ type: 'text' })
  type!: string;

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

  @Column({ type: 'text' })
  status!: PaymentMethodStatus;

  @Column({ name: 'attached_at', type: 'timestamptz', nullable: true })
  attachedAt!: Date | null;

  @Column({ name: 'detached_at', type: 'timestamptz', nullable: true })
  detachedAt!: Date | null;

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
