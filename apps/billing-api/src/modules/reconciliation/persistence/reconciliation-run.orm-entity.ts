import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RunTrigger = 'schedule' | 'admin';
export type RunStatus = 'running' | 'completed' | 'failed';

/** Counts of one run: objects compared per type, findings, repairs, what waits for an admin. */
export interface RunStats {
  compared: { subscription: number; invoice: number; payment: number };
  findings: number;
  repaired: number;
  awaitingAdmin: number;
  durationMs?: number;
}

export const EMPTY_STATS: RunStats = {
  compared: { subscription: 0, invoice: 0, payment: 0 },
  findings: 0,
  repaired: 0,
  awaitingAdmin: 0,
};

/** One reconciliation run over a window (unique per window: R-REC-3, one run per window). */
@Entity('reconciliation_runs')
export class ReconciliationRunOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'window_start', type: 'timestamptz' })
  windowStart!: Date;

  @Column({ name: 'window_end', type: 'timestamptz' })
  windowEnd!: Date;

  @Column({ type: 'text' })
  trigger!: RunTrigger;

  @Column({ type: 'text' })
  status!: RunStatus;

  @Column({ type: 'jsonb' })
  stats!: RunStats;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'requested_by', type: 'text', nullable: true })
  requestedBy!: string | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
