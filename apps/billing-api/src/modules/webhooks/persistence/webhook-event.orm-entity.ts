import { Column, Entity, PrimaryColumn } from 'typeorm';

export const WEBHOOK_EVENT_STATUSES = [
  'pending',
  'processing',
  'processed',
  'ignored',
  'failed',
  'dead',
] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

/** One stored Stripe event of the inbox (R-WH-2). The primary key is Stripe's event id. */
@Entity('webhook_events')
export class WebhookEventOrmEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ name: 'api_version', type: 'text', nullable: true })
  apiVersion!: string | null;

  @Column({ type: 'boolean' })
  livemode!: boolean;

  @Column({ name: 'event_created', type: 'timestamptz' })
  eventCreated!: Date;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  /** The exact verified body, kept only when it could not be stored as is (issue 16). */
  @Column({ name: 'raw_body', type: 'bytea', nullable: true })
  rawBody!: Buffer | null;

  @Column({ type: 'text' })
  status!: WebhookEventStatus;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ type: 'text', nullable: true })
  outcome!: 'applied' | 'skipped_stale' | 'ignored' | null;

  @Column({ name: 'processing_started_at', type: 'timestamptz', nullable: true })
  processingStartedAt!: Date | null;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** The batch job (`webhooks.process-events`) the intake queued it in; null when queued alone. */
  @Column({ name: 'job_id', type: 'text', nullable: true })
  jobId!: string | null;
}
