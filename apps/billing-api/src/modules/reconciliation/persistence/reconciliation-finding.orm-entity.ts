import type { DriftKind, DriftObject } from '@billing/domain';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * repaired: a safe drift the run applied; repair_failed: a safe drift whose repair did not apply (the
 * handler ignored or skipped it, or failed); open: an unsafe drift waiting for an admin; applied /
 * dismissed: what the admin decided.
 */
export type FindingStatus = 'repaired' | 'repair_failed' | 'open' | 'applied' | 'dismissed';

/** One drift found by a run (R-REC-3). */
@Entity('reconciliation_findings')
export class ReconciliationFindingOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @Column({ name: 'object_type', type: 'text' })
  objectType!: DriftObject;

  @Column({ name: 'stripe_id', type: 'text' })
  stripeId!: string;

  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId!: string | null;

  @Column({ type: 'text' })
  kind!: DriftKind;

  @Column({ type: 'boolean' })
  safe!: boolean;

  @Column({ type: 'text' })
  status!: FindingStatus;

  @Column({ name: 'app_value', type: 'jsonb', nullable: true })
  appValue!: Record<string, unknown> | null;

  @Column({ name: 'stripe_value', type: 'jsonb', nullable: true })
  stripeValue!: Record<string, unknown> | null;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ name: 'resolution_note', type: 'text', nullable: true })
  resolutionNote!: string | null;

  @Column({ name: 'resolved_by', type: 'text', nullable: true })
  resolvedBy!: string | null;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
