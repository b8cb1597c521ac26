import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RunTrigger = 'schedule' | 'admin';
export type RunStatus = 'running' | 'completed' | 'failed';

/**
 * Counts of one run: objects compared per type (refunds: their balance transactions), findings, repairs,
 * what waits for an admin, pages retried by the run itself after the SDK's own retries, and how often
 * the run was resumed by another worker after its worker stopped.
 */
export interface RunStats {
  compared: { subscription: number; invoice: number; payment: number; refund?: number };
  findings: number;
  repaired: number;
  awaitingAdmin: number;
  pageRetries?: number;
  resumed?: number;
  durationMs?: number;
}

export const EMPTY_STATS: RunStats = {
  compared: { subscription: 0, invoice: 0, payment: 0, refund: 0 },
  findings: 0,
  repaired: 0,
  awaitingAdmin: 0,
  pageRetries: 0,
  resumed: 0,
};

/** The passes of a run, in order: each side of each object type. */
export const RUN_PHASES = [
  'subscription.stripe',
  'subscription.app',
  'invoice.stripe',
  'invoice.app',
  'payment.stripe',
  'payment.app',
  'refund.stripe',
] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

/**
 * Where a run is: the pass, and the last id of the last page done in it (a Stripe id for Stripe's side,
 * the keyset id for the app's), or null at the start of the pass. Saved after every page.
 */
export interface RunCursor {
  phase: RunPhase;
  after: string | null;
}

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

  /** Where the run is (null: not started, or finished). */
  @Column({ type: 'jsonb', nullable: true })
  cursor!: RunCursor | null;

  /** The worker running it, until `leaseExpiresAt` (renewed every page; null: nobody yet, or finished). */
  @Column({ name: 'lease_owner', type: 'text', nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt!: Date | null;
}
