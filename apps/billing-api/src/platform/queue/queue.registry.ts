import type { JobOptions } from 'bull';

/**
 * Every queue, job, payload type and job option in one place (STYLE.md "Async work"). A job declared
 * here must have exactly one handler (`@HandlesJob`), or a worker refuses to start.
 */
export const QUEUES = {
  maintenance: 'maintenance',
  webhooks: 'webhooks',
  notifications: 'notifications',
  integrations: 'integrations',
  dunning: 'dunning',
  /** Reconciliation runs take minutes: on their own queue so that they never hold up the janitors. */
  reconciliation: 'reconciliation',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** The payload of each job. Everything in a payload is a primitive or a plain object (it goes through Redis). */
export interface JobPayloads {
  'maintenance.purge-idempotency-keys': Record<string, never>;
  /** Settles `unknown` and stale `pending` payments from Stripe (PaymentsJanitor). */
  'maintenance.settle-payments': Record<string, never>;
  /** Reads and records a captured payment's fee and net from Stripe (RecordPaymentBalanceHandler). */
  'payments.record-balance': { paymentId: string };
  /** Reads and records a succeeded refund's fee and net from Stripe (RecordRefundBalanceHandler). */
  'refunds.record-balance': { refundId: string; balanceTransactionId: string };
  /** Re-sends API refunds whose Stripe call got no answer (RefundsJanitor). */
  'maintenance.resubmit-refunds': Record<string, never>;
  /** Applies one stored Stripe event (job id = the event id): sweeper, replay, retry of a failed event. */
  'webhooks.process-event': { eventId: string };
  /** Applies the events the intake stored in one group commit, in one transaction (job id = their `job_id`). */
  'webhooks.process-events': { eventIds: string[]; correlationIds: string[] };
  /** Re-enqueues inbox rows left pending or processing (scheduled by WebhooksBootstrap, WEBHOOK_SWEEP_INTERVAL_MS). */
  'maintenance.sweep-webhook-inbox': Record<string, never>;
  /** Sends one outbox e-mail (job id = the notification id). */
  'notifications.send': { notificationId: string };
  /** Enqueues outbox e-mails whose after-commit enqueue was lost. */
  'maintenance.sweep-notifications': Record<string, never>;
  /** Enqueues the reminders that are due: trial ending, card expiring (ScanRemindersHandler). */
  'maintenance.scan-reminders': Record<string, never>;
  /** POSTs one integration event to one endpoint (job id = the delivery id). */
  'integrations.deliver': { deliveryId: string };
  /** Enqueues integration deliveries whose after-commit enqueue was lost. */
  'maintenance.sweep-integration-deliveries': Record<string, never>;
  /** Runs one step of one dunning case when it falls due (job id = `dunning:<case>:<step>`). */
  'dunning.run-step': { caseId: string; stepId: string };
  /** Retries an open dunning case now because the card changed (job id = the case and the change). */
  'dunning.retry-payment': {
    caseId: string;
    reason: 'default_payment_method_changed' | 'payment_method_automatically_updated';
    paymentMethodId: string;
    changedAt: string;
  };
  /** Enqueues the dunning steps that fell due and did not run (scheduled by DunningBootstrap). */
  'maintenance.dunning-catch-up': Record<string, never>;
  /** The hourly reconciliation run over the window ending at the hour (one run per window). */
  'reconciliation.scheduled-run': Record<string, never>;
  /** Runs one reconciliation run an admin requested (job id = the run id). */
  'reconciliation.run': { runId: string };
  /** Resumes, from its stored cursor, a reconciliation run whose worker stopped (its lease ran out). */
  'reconciliation.resume-abandoned': Record<string, never>;
}
export type JobName = keyof JobPayloads;

export interface JobDefinition {
  queue: QueueName;
  /** Concurrency of the handler in one worker process. */
  concurrency: number;
  options: JobOptions;
  /** Repeatable jobs are scheduled by every worker; Bull keeps one schedule per repeat key. */
  repeat?: { every: number };
}

const retried: JobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: 1000,
  removeOnFail: 5000,
};

export const JOBS = {
  'maintenance.settle-payments': {
    queue: QUEUES.maintenance,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
    repeat: { every: 60_000 },
  },
  // One per captured payment, after its commit (job id `payment-balance:<payment>`).
  'payments.record-balance': {
    queue: QUEUES.maintenance,
    concurrency: 2,
    options: { ...retried, attempts: 5, backoff: { type: 'exponential', delay: 5000 } },
  },
  // One per succeeded refund whose balance transaction was not given, after its commit
  // (job id `refund-balance:<refund>`).
  'refunds.record-balance': {
    queue: QUEUES.maintenance,
    concurrency: 2,
    options: { ...retried, attempts: 5, backoff: { type: 'exponential', delay: 5000 } },
  },
  'maintenance.resubmit-refunds': {
    queue: QUEUES.maintenance,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
    repeat: { every: 60_000 },
  },
  'maintenance.purge-idempotency-keys': {
    queue: QUEUES.maintenance,
    concurrency: 1,
    options: { ...retried, attempts: 3 },
    repeat: { every: 60 * 60 * 1000 },
  },
  // Attempts and backoff are overridden at enqueue time from WEBHOOK_MAX_ATTEMPTS / WEBHOOK_BACKOFF_MS.
  'webhooks.process-event': {
    queue: QUEUES.webhooks,
    concurrency: 8,
    options: { ...retried, attempts: 8, backoff: { type: 'exponential', delay: 2000 } },
  },
  // One job per intake group commit (issue 22). An event that fails is retried alone (`webhooks.process-event`,
  // scheduled by the batch); Bull retries the batch only when it failed as a whole (the database unreachable).
  // Attempts and backoff are overridden at enqueue time as above.
  'webhooks.process-events': {
    queue: QUEUES.webhooks,
    concurrency: 4,
    options: { ...retried, attempts: 8, backoff: { type: 'exponential', delay: 2000 } },
  },
  // On the maintenance queue so that a backlog of events never delays the sweep.
  'maintenance.sweep-webhook-inbox': {
    queue: QUEUES.maintenance,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
  },
  'notifications.send': {
    queue: QUEUES.notifications,
    concurrency: 4,
    options: { ...retried, attempts: 8, backoff: { type: 'exponential', delay: 5000 } },
  },
  'maintenance.sweep-notifications': {
    queue: QUEUES.maintenance,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
    repeat: { every: 30_000 },
  },
  // Scheduled by NotificationsBootstrap every NOTIFICATIONS_REMINDER_SCAN_INTERVAL_MS.
  'maintenance.scan-reminders': {
    queue: QUEUES.maintenance,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
  },
  'integrations.deliver': {
    queue: QUEUES.integrations,
    concurrency: 8,
    options: { ...retried, attempts: 10, backoff: { type: 'exponential', delay: 2000 } },
  },
  'maintenance.sweep-integration-deliveries': {
    queue: QUEUES.maintenance,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
    repeat: { every: 60_000 },
  },
  // A step's retry calls Stripe: a failure to reach it is retried with the same idempotency key.
  'dunning.run-step': {
    queue: QUEUES.dunning,
    concurrency: 8,
    options: { ...retried, attempts: 8, backoff: { type: 'exponential', delay: 5000 } },
  },
  'dunning.retry-payment': {
    queue: QUEUES.dunning,
    concurrency: 4,
    options: { ...retried, attempts: 8, backoff: { type: 'exponential', delay: 5000 } },
  },
  'maintenance.dunning-catch-up': {
    queue: QUEUES.maintenance,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
  },
  'reconciliation.scheduled-run': {
    queue: QUEUES.reconciliation,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
    repeat: { every: 60 * 60 * 1000 },
  },
  'reconciliation.run': {
    queue: QUEUES.reconciliation,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
  },
  'reconciliation.resume-abandoned': {
    queue: QUEUES.reconciliation,
    concurrency: 1,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
    repeat: { every: 60 * 1000 },
  },
} as const satisfies Record<JobName, JobDefinition>;

/** What a job carries besides its payload: the correlation id of the request that caused it (R-API-7). */
export interface JobEnvelope<N extends JobName> {
  correlationId: string;
  payload: JobPayloads[N];
}
