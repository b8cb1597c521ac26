import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The latest time seen of a Stripe test clock: the "now" of the cases that follow it. */
@Entity('dunning_test_clocks')
export class DunningTestClockOrmEntity {
  @PrimaryColumn({ name: 'test_clock_id', type: 'text' })
  testClockId!: string;

  @Column({ name: 'frozen_time', type: 'timestamptz' })
  frozenTime!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
