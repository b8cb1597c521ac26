import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The app's mirrors of Stripe objects, kept by the webhook handlers (issue 4) and built on by the
 * payments, refunds, subscriptions and invoices features: payment methods, payments (one per
 * PaymentIntent) with their status history (R-PAY-6), refunds (R-REF), subscriptions (R-SUB, R-SM) and
 * invoices (R-SUB-7). Money is bigint minor units (R-CORE-1). Every mirror keeps the `created` of the
 * last Stripe event applied to it (`last_event_created`, unix seconds) for the ordering rule R-SM-3.
 */
export class StripeMirrors1763820000000 implements MigrationInterface {
  name = 'StripeMirrors1763820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payment_methods (
        id uuid PRIMARY KEY,
        stripe_payment_method_id text NOT NULL UNIQUE,
        account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
        stripe_customer_id text,
        type text NOT NULL,
        card_brand text,
        card_last4 text CHECK (card_last4 IS NULL OR card_last4 ~ '^[0-9]{4}$'),
        card_exp_month integer CHECK (card_exp_month IS NULL OR card_exp_month BETWEEN 1 AND 12),
        card_exp_year integer,
        card_funding text,
        status text NOT NULL CHECK (status IN ('attached', 'detached')),
        attached_at timestamptz,
        detached_at timestamptz,
        last_event_created bigint,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX payment_methods_account_idx ON payment_methods (account_id, created_at DESC, id DESC)`,
    );

    await q.query(`
      CREATE TABLE payments (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        stripe_payment_intent_id text UNIQUE,
        stripe_customer_id text,
        amount bigint NOT NULL CHECK (amount >= 0),
        currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
        status text NOT NULL CHECK (status IN ('pending', 'requires_action', 'processing', 'succeeded',
          'failed', 'canceled', 'partially_refunded', 'refunded', 'unknown')),
        amount_received bigint NOT NULL DEFAULT 0 CHECK (amount_received >= 0),
        amount_refunded bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
        description text,
        order_reference text,
        metadata jsonb NOT NULL DEFAULT '{}',
        stripe_payment_method_id text,
        payment_method_type text,
        card_brand text,
        card_last4 text,
        card_exp_month integer,
        card_exp_year integer,
        card_funding text,
        failure_code text,
        decline_code text,
        failure_message text,
        latest_charge_id text,
        checkout_session_id text,
        origin text NOT NULL CHECK (origin IN ('api', 'stripe')),
        succeeded_at timestamptz,
        stripe_created_at timestamptz,
        last_event_created bigint,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX payments_account_created_idx ON payments (account_id, created_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX payments_account_amount_idx ON payments (account_id, amount DESC, id DESC)`);
    await q.query(
      `CREATE INDEX payments_account_order_ref_idx ON payments (account_id, order_reference) WHERE order_reference IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE payment_status_history (
        id bigserial PRIMARY KEY,
        payment_id uuid NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
        from_status text,
        to_status text NOT NULL,
        cause_type text NOT NULL CHECK (cause_type IN ('user', 'system', 'stripe_event', 'reconciliation')),
        cause_id text,
        decline_code text,
        at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX payment_status_history_payment_idx ON payment_status_history (payment_id, id)`,
    );

    await q.query(`
      CREATE TABLE refunds (
        id uuid PRIMARY KEY,
        payment_id uuid NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        stripe_refund_id text UNIQUE,
        stripe_charge_id text,
        amount bigint NOT NULL CHECK (amount > 0),
        currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
        status text NOT NULL CHECK (status IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled')),
        reason text,
        failure_reason text,
        origin text NOT NULL CHECK (origin IN ('api', 'stripe')),
        stripe_created_at timestamptz,
        last_event_created bigint,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at, id)`);
    await q.query(`CREATE INDEX refunds_account_idx ON refunds (account_id, created_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE subscriptions (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        stripe_subscription_id text NOT NULL UNIQUE,
        stripe_customer_id text NOT NULL,
        stripe_status text NOT NULL,
        state text NOT NULL CHECK (state IN ('free', 'trialing', 'active', 'past_due', 'suspended',
          'canceled_pending', 'expired', 'canceled_immediately')),
        plan_id text,
        billing_interval text CHECK (billing_interval IS NULL OR billing_interval IN ('month', 'year')),
        base_price_id text,
        seat_price_id text,
        seats integer NOT NULL DEFAULT 0 CHECK (seats >= 0),
        currency text,
        cancel_at_period_end boolean NOT NULL DEFAULT false,
        cancel_at timestamptz,
        canceled_at timestamptz,
        cancellation_reason text,
        current_period_start timestamptz,
        current_period_end timestamptz,
        trial_start timestamptz,
        trial_end timestamptz,
        ended_at timestamptz,
        past_due_since timestamptz,
        latest_invoice_id text,
        stripe_created_at timestamptz,
        last_event_created bigint NOT NULL,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX subscriptions_account_idx ON subscriptions (account_id, created_at DESC)`);

    await q.query(`
      CREATE TABLE invoices (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        stripe_invoice_id text NOT NULL UNIQUE,
        stripe_customer_id text NOT NULL,
        stripe_subscription_id text,
        number text,
        status text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'uncollectible', 'void')),
        billing_reason text,
        currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
        amount_due bigint NOT NULL,
        amount_paid bigint NOT NULL,
        amount_remaining bigint NOT NULL,
        total bigint NOT NULL,
        attempt_count integer NOT NULL DEFAULT 0,
        next_payment_attempt timestamptz,
        hosted_invoice_url text,
        invoice_pdf text,
        period_start timestamptz,
        period_end timestamptz,
        paid_at timestamptz,
        stripe_created_at timestamptz NOT NULL,
        last_event_created bigint NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX invoices_account_idx ON invoices (account_id, stripe_created_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX invoices_subscription_idx ON invoices (stripe_subscription_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE invoices`);
    await q.query(`DROP TABLE subscriptions`);
    await q.query(`DROP TABLE refunds`);
    await q.query(`DROP TABLE payment_status_history`);
    await q.query(`DROP TABLE payments`);
    await q.query(`DROP TABLE payment_methods`);
  }
}
