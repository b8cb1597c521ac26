import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { SubscriptionMirror } from '../../machine/subscription-mirror.js';
import { markCheckoutComplete } from '../../persistence/subscription-checkouts.js';
import { StripeReader } from '../../stripe/stripe-reader.js';

/** Where a completed checkout stands, as the success page shows it. */
export interface CheckoutCompletion {
  sessionId: string;
  status: string;
  /** The subscription's app state once mirrored (null before the session completed). */
  state: string | null;
  planId: string | null;
}

/**
 * The Checkout success callback (R-SUB-2): Stripe sends the browser back with the session id, and the
 * subscription it started is read from Stripe and applied through the same mirror as the
 * `checkout.session.completed` webhook, whichever comes first: both converge on one row. Reads only what
 * Stripe says, so an unauthenticated browser may call it; a session the app did not open is a 404.
 */
@Injectable()
export class CompleteCheckoutHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly mirror: SubscriptionMirror,
    private readonly reader: StripeReader,
  ) {}

  async execute(sessionId: string): Promise<CheckoutCompletion> {
    const [ours] = await this.db.query<{ account_id: string }[]>(
      `SELECT account_id FROM subscription_checkouts WHERE stripe_session_id = $1`,
      [sessionId],
    );
    if (!ours) throw new ApiError('not_found', 'No such checkout session.', { param: 'session_id' });
    const session = await this.gateway.call('checkout.retrieve', (s) =>
      s.checkout.sessions.retrieve(sessionId),
    );
    const subscriptionId =
      typeof session.subscription === 'string' ? session.subscription : (session.subscription?.id ?? null);
    if (session.status !== 'complete' || !subscriptionId) {
      return { sessionId, status: session.status ?? 'open', state: null, planId: null };
    }
    return this.db.transaction(async (manager) => {
      await this.mirror.applyFresh(
        subscriptionId,
        {
          manager,
          event: { id: `checkout:${sessionId}`, created: Math.floor(this.clock.now().getTime() / 1000) },
          actor: { type: 'system', id: 'checkout_callback' },
          refetch: (id) => this.reader.refetch(id),
        },
        { accountId: ours.account_id },
      );
      await markCheckoutComplete(manager, session.id, subscriptionId);
      const [row] = await manager.query<{ state: string; plan_id: string | null }[]>(
        `SELECT state, plan_id FROM subscriptions WHERE stripe_subscription_id = $1`,
        [subscriptionId],
      );
      return {
        sessionId,
        status: 'complete' as const,
        state: row?.state ?? null,
        planId: row?.plan_id ?? null,
      };
    });
  }
}
