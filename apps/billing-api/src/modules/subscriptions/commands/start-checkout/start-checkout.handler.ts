import { isLiveState, type BillingInterval } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { CatalogFacade } from '../../../catalog/catalog.facade.js';
import { SubscriptionOrmEntity } from '../../persistence/subscription.orm-entity.js';

export interface StartCheckoutCommand {
  accountId: string;
  planId: string;
  interval: BillingInterval;
  /** Add-on seats to buy with the plan (0: the included seats only). */
  seats: number;
}

/** A hosted Checkout session to open in the browser. */
export interface CheckoutSessionView {
  sessionId: string;
  url: string;
  expiresAt: string;
  /** True when an open session of the same account, plan and seats was returned (a double click). */
  reused: boolean;
}

interface CheckoutRow {
  stripe_session_id: string;
  url: string;
  expires_at: Date;
}

/**
 * Starts the account's first paid subscription (or a new one after the last ended) on Stripe's hosted
 * Checkout, mode subscription, without a trial (R-SUB-1/5). While a session of the same account, price
 * and seats is open, the same session is returned (R-SUB-2: double-click safe): requests of one account
 * take turns on an advisory lock, so ten at once make one session. A live subscription is a 409.
 */
@Injectable()
export class StartCheckoutHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly accounts: AccountsFacade,
    private readonly catalog: CatalogFacade,
  ) {}

  async execute(command: StartCheckoutCommand): Promise<CheckoutSessionView> {
    const live = await this.db
      .getRepository(SubscriptionOrmEntity)
      .find({ where: { accountId: command.accountId } });
    const current = live.find((s) => isLiveState(s.state));
    if (current) {
      throw new ApiError('invalid_transition', `The account already has a ${current.state} subscription.`, {
        details: { state: current.state },
      });
    }
    const prices = await this.catalog.resolvePrices(command.planId, command.interval);
    if (!prices.ok) throw ApiError.fromRejection(prices.error, 'plan');
    if (command.seats > 0 && !prices.value.seat) {
      throw new ApiError('seat_addon_unavailable', `The ${command.planId} plan sells no extra seats.`, {
        param: 'seats',
      });
    }
    const customer = await this.accounts.ensureStripeCustomer(command.accountId);
    const base = prices.value.base.stripePriceId;
    return this.db.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('subscription-checkout:' || $1))`, [
        command.accountId,
      ]);
      const now = this.clock.now();
      const [open] = await manager.query<CheckoutRow[]>(
        `SELECT stripe_session_id, url, expires_at FROM subscription_checkouts
          WHERE account_id = $1 AND base_price_id = $2 AND seats = $3 AND status = 'open' AND expires_at > $4
          ORDER BY created_at DESC LIMIT 1`,
        [command.accountId, base, command.seats, now],
      );
      if (open) {
        return {
          sessionId: open.stripe_session_id,
          url: open.url,
          expiresAt: open.expires_at.toISOString(),
          reused: true,
        };
      }
      const id = randomUUID();
      const returnBase = this.config.http.publicBaseUrl;
      const session = await this.gateway.call('checkout.create', (stripe) =>
        stripe.checkout.sessions.create(
          {
            mode: 'subscription',
            customer,
            client_reference_id: command.accountId,
            line_items: [
              { price: base, quantity: 1 },
              ...(command.seats > 0 && prices.value.seat
                ? [{ price: prices.value.seat.stripePriceId, quantity: command.seats }]
                : []),
            ],
            subscription_data: { metadata: { account_id: command.accountId } },
            metadata: { account_id: command.accountId, checkout_id: id },
            success_url: `${returnBase}/v1/subscription/checkout/complete?session_id={CHECKOUT_SESSION_ID}`,
            cancel_url: `${returnBase}/`,
          },
          { idempotencyKey: StripeGateway.idempotencyKey('checkout.create', id) },
        ),
      );
      if (!session.url) throw new Error(`checkout session ${session.id} has no URL`);
      const expiresAt = new Date(session.expires_at * 1000);
      await manager.query(
        `INSERT INTO subscription_checkouts
           (id, account_id, stripe_session_id, url, plan_id, billing_interval, base_price_id, seats, status, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10)`,
        [
          id,
          command.accountId,
          session.id,
          session.url,
          command.planId,
          command.interval,
          base,
          command.seats,
          expiresAt,
          now,
        ],
      );
      return { sessionId: session.id, url: session.url, expiresAt: expiresAt.toISOString(), reused: false };
    });
  }
}
