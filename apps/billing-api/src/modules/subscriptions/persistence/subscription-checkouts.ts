import type { EntityManager } from 'typeorm';

/** Marks the app's record of a completed Checkout session complete (the callback and the webhook alike). */
export async function markCheckoutComplete(
  manager: EntityManager,
  stripeSessionId: string,
  stripeSubscriptionId: string | null,
): Promise<void> {
  await manager.query(
    `UPDATE subscription_checkouts SET status = 'complete', stripe_subscription_id = $2, completed_at = now()
      WHERE stripe_session_id = $1 AND status = 'open'`,
    [stripeSessionId, stripeSubscriptionId],
  );
}
