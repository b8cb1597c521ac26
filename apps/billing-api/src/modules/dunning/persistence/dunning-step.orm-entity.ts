import { Column, Entity, PrimaryColumn } from 'typeorm';

export type DunningStepStatus = 'pending' | 'done' | 'canceled';

/** One step of a case's policy: written when the case opens, marked done exactly once (R-DUN-5). */
@Entity('dunning_steps')
export class DunningStepOrmEntity {
  @PrimaryColumn({ name: 'case_id', type: 'uuid' })
  caseId!: string;

  @PrimaryColumn({ name: 'step_id', type: 'text' })
  stepId!: string;

  /** The step's place in the policy (0-based). */
  @Column({ type: 'integer' })
  position!: number;

  @Column({ name: 'day_offset', type: 'integer' })
  dayOffset!: number;

  @Column({ name: 'due_at', type: 'timestamptz' })
  dueAt!: Date;

  @Column({ type: 'text' })
  status!: DunningStepStatus;

  @Column({ name: 'ran_at', type: 'timestamptz', nullable: true })
  ranAt!: Date | null;

  @Column({ name: 'retry_outcome', type: 'text', nullable: true })
  retryOutcome!: 'succeeded' | 'failed' | null;
}
