import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

export interface EntitlementVerdictBody {
  accountId: string;
  tier: string;
  features: string[];
  limits: { seats: { total: number | null; used: number | null } };
  accessMode: string;
  banners: Record<string, unknown>[];
  basis: string;
  reason: string;
  state: string | null;
  billing: { enabled: boolean | null; accountFlag: boolean | null; rolloutPercent: number | null };
  dunningStage: null;
  nextChange: { kind: string; at: string; planId: string | null } | null;
}

export interface SubscriptionRow {
  state: string;
  planId?: string;
  seats?: number;
  stripeSubscriptionId?: string;
  currentPeriodEnd?: Date | null;
  trialEnd?: Date | null;
  pastDueSince?: Date | null;
  cancelAtPeriodEnd?: boolean;
  pending?: { planId: string; effectiveAt: Date } | null;
  createdAt?: Date;
}

/** A subscription mirror row as the subscriptions module writes it (for verdict tables). */
export async function insertSubscription(
  db: DataSource,
  accountId: string,
  row: SubscriptionRow,
): Promise<string> {
  const id = randomUUID();
  const now = row.createdAt ?? new Date();
  await db.query(
    `INSERT INTO subscriptions (id, account_id, stripe_subscription_id, stripe_customer_id, stripe_status, state,
       plan_id, billing_interval, seats, cancel_at_period_end, current_period_end, trial_end, past_due_since,
       pending_plan_id, pending_interval, pending_effective_at, last_event_created, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'active', $5, $6, 'month', $7, $8, $9, $10, $11, $12, $13, $14, 1, 1, $15, $15)`,
    [
      id,
      accountId,
      row.stripeSubscriptionId ?? `sub_${randomUUID().slice(0, 12)}`,
      `cus_${randomUUID().slice(0, 12)}`,
      row.state,
      row.planId ?? 'pro',
      row.seats ?? 0,
      row.cancelAtPeriodEnd ?? false,
      row.currentPeriodEnd ?? null,
      row.trialEnd ?? null,
      row.pastDueSince ?? null,
      row.pending?.planId ?? null,
      row.pending ? 'month' : null,
      row.pending?.effectiveAt ?? null,
      now,
    ],
  );
  return id;
}

/** A completed Checkout of the account whose subscription is not mirrored (yet). */
export async function insertCompletedCheckout(
  db: DataSource,
  accountId: string,
  stripeSubscriptionId: string,
): Promise<void> {
  await db.query(
    `INSERT INTO subscription_checkouts (id, account_id, stripe_session_id, url, plan_id, billing_interval,
       base_price_id, seats, status, stripe_subscription_id, expires_at, created_at, completed_at)
     VALUES ($1, $2, $3, 'https://checkout.example.test', 'pro', 'month', 'price_x', 0, 'complete', $4,
       now() + interval '1 day', now(), now())`,
    [randomUUID(), accountId, `cs_${randomUUID()}`, stripeSubscriptionId],
  );
}
