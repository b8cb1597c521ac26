import type { WebhookEventStatus } from '../persistence/webhook-event.orm-entity.js';

/** An inbox event as the admin API shows it. */
export interface WebhookEventSummaryView {
  id: string;
  type: string;
  status: WebhookEventStatus;
  outcome: 'applied' | 'skipped_stale' | 'ignored' | null;
  attempts: number;
  apiVersion: string | null;
  livemode: boolean;
  created: string;
  receivedAt: string;
  processedAt: string | null;
  lastError: string | null;
}

export interface WebhookEventView extends WebhookEventSummaryView {
  payload: Record<string, unknown>;
}
