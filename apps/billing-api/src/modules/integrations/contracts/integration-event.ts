/**
 * The event types integrators receive (seed 002's order service): one per status a payment or refund
 * can move to that an integrator can act on. Not events: a payment's `pending` (our row before Stripe
 * is asked: nothing has happened yet) and `unknown` (Stripe's answer was lost; the janitor re-asks and
 * the settled status comes as its own event), and a refund's `pending` (its initial status, not a
 * change: the API answers the refund it created, and a refund made in Stripe is announced by its outcome).
 */
export const INTEGRATION_EVENT_TYPES = [
  'payment.requires_action',
  'payment.processing',
  'payment.succeeded',
  'payment.failed',
  'payment.canceled',
  'payment.partially_refunded',
  'payment.refunded',
  'refund.requires_action',
  'refund.succeeded',
  'refund.failed',
  'refund.canceled',
  /** An account's entitlement verdict may have changed; `data` is the new verdict (subject: the account). */
  'entitlements.updated',
] as const;
export type IntegrationEventType = (typeof INTEGRATION_EVENT_TYPES)[number];

export interface RecordIntegrationEvent {
  accountId: string;
  type: IntegrationEventType;
  /** The payment, refund or account the event is about. */
  subjectId: string;
  /**
   * Which change of the subject it reports (e.g. `v7`, a payment's version after the change): one
   * integration event per type, subject and change, however many paths report that change. Null: one
   * per type and subject (a refund reaches each status at most once).
   */
  causeId: string | null;
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
