import { findPlan, planQuoteBilling, planQuoteKind } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { RequestContext } from '../../../../platform/context/request-context.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { CatalogFacade } from '../../../catalog/catalog.facade.js';
import type { PlanQuoteTarget, PlanQuoteView } from '../../contracts/plan-quote.view.js';
import { liveSubscriptionOf } from '../../persistence/live-subscription.js';
import { toPlanQuoteView } from '../../persistence/subscription-quote.mapper.js';
import { SubscriptionQuoteOrmEntity } from '../../persistence/subscription-quote.orm-entity.js';
import { PlanChangeCheck } from '../../machine/plan-change-check.js';
import { planChangeItems, SubscriptionBillingReader } from '../../stripe/subscription-billing.reader.js';

/** The sum of an invoice's negative lines (prorations of unused time), as a positive amount. */
function creditOf(invoice: Stripe.Invoice): number {
  return invoice.lines.data.filter((l) => l.amount < 0).reduce((sum, l) => sum - l.amount, 0);
}

/** What the invoice took from the customer's credit balance (negative balances are credit). */
function balanceApplied(invoice: Stripe.Invoice): number {
  const starting = invoice.starting_balance ?? 0;
  const ending = invoice.ending_balance ?? starting;
  return Math.max(0, ending - starting);
}

/**
 * Prices a plan or seat change with Stripe's invoice preview and locks it as a quote (R-SUB-3): the
 * app never computes proration. Stripe picks the proration instant of the first preview (its own
 * "now", a test clock's time included); the change is applied later at that very instant, so the
 * charge equals the quote to the cent. An upgrade or added seats are invoiced at once
 * (`always_invoice`: the preview is that invoice; a second preview without prorations gives the next
 * renewal); a downgrade or removed seats leave their prorations on the next invoice (one preview).
 * The machine is asked first on the subscription as it is, so what it would refuse (an upgrade while
 * past_due, a downgrade below the member count) is refused before Stripe is called.
 */
@Injectable()
export class QuotePlanChangeHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly catalog: CatalogFacade,
    private readonly billing: SubscriptionBillingReader,
    private readonly machine: PlanChangeCheck,
  ) {}

  async execute(accountId: string, target: PlanQuoteTarget): Promise<PlanQuoteView> {
    const row = await liveSubscriptionOf(this.db.manager, accountId);
    const catalogue = this.catalog.catalogue();
    const fromPlan = findPlan(catalogue, row.planId ?? 'free');
    const toPlan = findPlan(catalogue, target.planId);
    if (!toPlan.ok) throw ApiError.fromRejection(toPlan.error, 'plan');
    if (!fromPlan.ok || !row.interval) {
      throw new ApiError('invalid_transition', 'The subscription has no paid plan to change.', {
        details: { state: row.state },
      });
    }
    if (target.interval !== row.interval) {
      // Stripe restarts the billing cycle on an interval change and invoices at once: not a change a
      // quote of this period can describe (see docs/subscriptions.md, "Quotes and plan changes").
      throw new ApiError(
        'validation_failed',
        `Changing the billing interval (${row.interval} to ${target.interval}) is not offered mid-period.`,
        { param: 'interval' },
      );
    }
    const from = { plan: fromPlan.value, interval: row.interval, seats: row.seats };
    const kind = planQuoteKind(from, { plan: toPlan.value, interval: target.interval, seats: target.seats });
    if (!kind.ok) throw ApiError.fromRejection(kind.error);
    await this.machine.inputs(
      row,
      { planId: fromPlan.value.id, interval: row.interval, seats: row.seats },
      target,
    );

    const prices = await this.catalog.resolvePrices(target.planId, target.interval);
    if (!prices.ok) throw ApiError.fromRejection(prices.error, 'plan');
    if (target.seats > 0 && !prices.value.seat) {
      throw new ApiError('seat_addon_unavailable', `The ${toPlan.value.name} plan sells no extra seats.`, {
        param: 'seats',
      });
    }
    const billing = await this.billing.read(row.stripeSubscriptionId);
    const items = planChangeItems(billing, {
      basePriceId: prices.value.base.stripePriceId,
      seatPriceId: prices.value.seat?.stripePriceId ?? null,
      seats: target.seats,
    });
    const now = planQuoteBilling(kind.value) === 'invoice_now';
    const preview = (behavior: 'always_invoice' | 'create_prorations' | 'none') =>
      this.gateway.call('invoice.preview', (s) =>
        s.invoices.createPreview({
          customer: billing.customerId,
          subscription: billing.subscriptionId,
          subscription_details: { items, proration_behavior: behavior },
        }),
      );
    const [billed, renewal] = await Promise.all([
      preview(now ? 'always_invoice' : 'create_prorations'),
      now ? preview('none') : Promise.resolve(null),
    ]);
    const prorationDate = billed.parent?.subscription_details?.subscription_proration_date;
    if (typeof prorationDate !== 'number') {
      throw new ApiError('payment_provider_error', "Stripe's preview did not say when it prorated.");
    }
    const created = this.clock.now();
    const quote = this.db.getRepository(SubscriptionQuoteOrmEntity).create({
      id: randomUUID(),
      accountId,
      subscriptionId: row.id,
      stripeSubscriptionId: row.stripeSubscriptionId,
      kind: kind.value,
      fromPlanId: fromPlan.value.id,
      fromInterval: row.interval,
      fromSeats: row.seats,
      planId: toPlan.value.id,
      interval: target.interval,
      seats: target.seats,
      basePriceId: prices.value.base.stripePriceId,
      seatPriceId: prices.value.seat?.stripePriceId ?? null,
      currency: billed.currency,
      amountDueNow: now ? billed.amount_due : 0,
      credit: creditOf(billed),
      nextInvoiceAmount: (renewal ?? billed).total,
      nextInvoiceAt: new Date(billing.currentPeriodEnd * 1000),
      creditBalanceApplied: balanceApplied(billed),
      prorationDate,
      subscriptionVersion: row.version,
      fingerprint: billing.fingerprint,
      status: 'open',
      attempts: 0,
      claimedAt: null,
      appliedAt: null,
      stripeInvoiceId: null,
      expiresAt: new Date(created.getTime() + this.config.quotes.ttlMinutes * 60_000),
      createdBy: RequestContext.actor().id,
      createdAt: created,
    });
    await this.db.getRepository(SubscriptionQuoteOrmEntity).insert(quote);
    return toPlanQuoteView(quote);
  }
}
