/** The event types integrators receive (seed 002's order service). */
export const INTEGRATION_EVENT_TYPES = [
  'payment.succeeded',
  'payment.failed',
  'payment.refunded',
  'refund.succeeded',
  'refund.failed',
] as const;
export type IntegrationEventType = (typeof INTEGRATION_EVENT_TYPES)[number];

export interface RecordIntegrationEvent {
  accountId: string;
  type: IntegrationEventType;
  /** The payment or refund the event is about. */
  subjectId: string;
  /** What caused it (e.g. the Stripe event id): one integration event per type, subject and cause. */
  causeId: string;
  /** Primitives only; amounts in minor units. */
  data: Record<string, unknown>;
}

/** The JSON body POSTed to an endpoint. */
export interface IntegrationEventBody {
  id: string;
  type: IntegrationEventType;
  created: string;
  accountId: string;
  data: Record<string, unknown>;
}
