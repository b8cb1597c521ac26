import {
  findPlan,
  planQuoteBilling,
  planQuoteKind,
  restartsBillingCycle,
  type PlanQuoteKind,
} from '@billing/domain';
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
import {
  planChangeItems,
  SubscriptionBillingReader,
  type StripeBilling,
} from '../../stripe/subscription-billing.reader.js';
import type { SubscriptionOrmEntity } from '../../persistence/subscription.orm-entity.js';

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

/** What the invoice added to the customer's credit balance (a credit larger than the charge). */
function balanceAdded(invoice: Stripe.Invoice): number {
  const starting = invoice.starting_balance ?? 0;
  const ending = invoice.ending_balance ?? starting;
  return Math.max(0, starting - ending);
}

function isProration(line: Stripe.InvoiceLineItem): boolean {
  return line.parent?.subscription_item_details?.proration === true;
}

/** The signed total of the invoice's proration lines. */
function prorationTotal(invoice: Stripe.Invoice): number {
  return invoice.lines.data.filter(isProration).reduce((sum, l) => sum + l.amount, 0);
}

/** The end of the new period an interval change bills (its one line that is not a proration). */
function restartedPeriodEnd(invoice: Stripe.Invoice): number | null {
  return invoice.lines.data.find((l) => !isProration(l))?.period.end ?? null;
}

/**
 * Prices a plan or seat change with Stripe's invoice preview and locks it as a quote (R-SUB-3): the
 * app never computes proration. Stripe picks the proration instant of the first preview (its own
 * "now", a test clock's time included); the change is applied later at that very instant, so the
 * charge equals the quote to the cent. An upgrade or added seats are invoiced at once
 * (`always_invoice`: the preview is that invoice; a second preview without prorations gives the next
 * renewal); a downgrade or removed seats leave their prorations on the next invoice (one preview).
 * A change of the billing interval is invoiced at once in either direction (Stripe restarts the cycle:
 * the new period in full less the unused time; a larger credit goes to the credit balance), and the
 * next invoice is the new period's end. The current plan chosen again while a downgrade is scheduled
 * withdraws it (`downgrade_withdrawn`): Stripe bills the kept plan again, its prorations reversed at
 * the downgrade's own proration instant, so the next invoice is the kept plan's renewal.
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

  /** `memberCount`: for a seat change inside the seat lock, the members once its own change is made. */
  async execute(
    accountId: string,
    target: PlanQuoteTarget,
    options: { memberCount?: number } = {},
  ): Promise<PlanQuoteView> {
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
    // While a downgrade is scheduled, the current plan and seats again withdraw it (another seat count
    // of the current plan is a seats-only change that keeps it).
    const withdrawal =
      row.pendingPlanId !== null &&
      target.planId === row.planId &&
      target.interval === row.interval &&
      target.seats === row.seats;
    let from = { plan: fromPlan.value, interval: row.interval, seats: row.seats };
    let kind: PlanQuoteKind;
    if (withdrawal) {
      // What Stripe bills now is the scheduled plan: the withdrawal moves it back to the kept one.
      const pending = findPlan(catalogue, row.pendingPlanId ?? 'free');
      if (!pending.ok || row.pendingInterval !== row.interval) {
        throw new ApiError(
          'invalid_transition',
          'The scheduled change is not a downgrade of this billing interval: it cannot be withdrawn.',
          { details: { pendingPlanId: row.pendingPlanId, pendingInterval: row.pendingInterval } },
        );
      }
      from = { plan: pending.value, interval: row.interval, seats: row.seats };
      kind = 'downgrade_withdrawn';
    } else {
      const found = planQuoteKind(from, {
        plan: toPlan.value,
        interval: target.interval,
        seats: target.seats,
      });
      if (!found.ok) throw ApiError.fromRejection(found.error);
      kind = found.value;
    }
    await this.machine.inputs(
      row,
      { planId: from.plan.id, interval: from.interval, seats: from.seats },
      target,
      options.memberCount,
    );

    const billing = await this.billing.read(row.stripeSubscriptionId);
    const seatsOnly = kind === 'seats_added' || kind === 'seats_removed';
    const priced = seatsOnly
      ? await this.seatsOnlyPrices(billing)
      : await this.planPrices(target, toPlan.value.name);
    if (target.seats > 0 && !priced.seatPriceId) {
      throw new ApiError('seat_addon_unavailable', `The ${toPlan.value.name} plan sells no extra seats.`, {
        param: 'seats',
      });
    }
    const items = planChangeItems(billing, { ...priced, seats: target.seats });
    // During a trial Stripe prorates nothing and the trial goes on: the new interval starts at its end.
    const restartsCycle =
      !withdrawal && row.state !== 'trialing' && restartsBillingCycle(row.interval, target.interval);
    const now = planQuoteBilling(kind, restartsCycle) === 'invoice_now';
    const reversedAt = withdrawal ? await this.downgradeProrationDate(row) : undefined;
    const preview = (behavior: 'always_invoice' | 'create_prorations' | 'none') =>
      this.gateway.call('invoice.preview', (s) =>
        s.invoices.createPreview({
          customer: billing.customerId,
          subscription: billing.subscriptionId,
          subscription_details: {
            items,
            proration_behavior: behavior,
            ...(reversedAt !== undefined ? { proration_date: reversedAt } : {}),
          },
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
    const periodEnd = restartsCycle ? restartedPeriodEnd(billed) : billing.currentPeriodEnd;
    if (periodEnd === null) {
      throw new ApiError('payment_provider_error', "Stripe's preview did not say when the new period ends.");
    }
    const created = this.clock.now();
    const quote = this.db.getRepository(SubscriptionQuoteOrmEntity).create({
      id: randomUUID(),
      accountId,
      subscriptionId: row.id,
      stripeSubscriptionId: row.stripeSubscriptionId,
      kind,
      fromPlanId: from.plan.id,
      fromInterval: from.interval,
      fromSeats: from.seats,
      planId: toPlan.value.id,
      interval: target.interval,
      seats: target.seats,
      basePriceId: priced.basePriceId,
      seatPriceId: priced.seatPriceId,
      currency: billed.currency,
      amountDueNow: now ? billed.amount_due : 0,
      credit: creditOf(billed),
      nextInvoiceAmount: (renewal ?? billed).total,
      nextInvoiceAt: new Date(periodEnd * 1000),
      creditBalanceApplied: balanceApplied(billed),
      creditBalanceAdded: now ? balanceAdded(billed) : 0,
      prorationAmount: prorationTotal(billed),
      prorationDate,
      billingCycleRestarts: restartsCycle,
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

  /** The catalogue prices of the target plan and interval. */
  private async planPrices(
    target: PlanQuoteTarget,
    planName: string,
  ): Promise<{ basePriceId: string; seatPriceId: string | null }> {
    const prices = await this.catalog.resolvePrices(target.planId, target.interval);
    if (!prices.ok) throw ApiError.fromRejection(prices.error, 'plan');
    if (target.seats > 0 && !prices.value.seat) {
      throw new ApiError('seat_addon_unavailable', `The ${planName} plan sells no extra seats.`, {
        param: 'seats',
      });
    }
    return {
      basePriceId: prices.value.base.stripePriceId,
      seatPriceId: prices.value.seat?.stripePriceId ?? null,
    };
  }

  /**
   * A seats-only change keeps what Stripe bills for the plan (the scheduled plan while a downgrade is
   * pending) and moves the seat item of that plan.
   */
  private async seatsOnlyPrices(
    billing: StripeBilling,
  ): Promise<{ basePriceId: string; seatPriceId: string | null }> {
    const { description } = billing;
    if (description.seatPriceId) {
      return { basePriceId: description.basePriceId, seatPriceId: description.seatPriceId };
    }
    const prices = await this.catalog.resolvePrices(description.planId, description.interval);
    if (!prices.ok) throw ApiError.fromRejection(prices.error, 'plan');
    return { basePriceId: description.basePriceId, seatPriceId: prices.value.seat?.stripePriceId ?? null };
  }

  /**
   * The proration instant of the downgrade being withdrawn (its applied quote's), when it is in the
   * current period: reversed at that instant, the downgrade's prorations cancel out to the cent. A
   * downgrade made elsewhere (no quote) is reversed now.
   */
  private async downgradeProrationDate(row: SubscriptionOrmEntity): Promise<number | undefined> {
    const applied = await this.db.getRepository(SubscriptionQuoteOrmEntity).findOne({
      where: {
        subscriptionId: row.id,
        kind: 'downgrade',
        status: 'applied',
        planId: row.pendingPlanId ?? '',
        interval: row.pendingInterval ?? row.interval ?? 'month',
      },
      order: { appliedAt: 'DESC' },
    });
    const periodStart = row.currentPeriodStart ? row.currentPeriodStart.getTime() / 1000 : null;
    if (!applied || periodStart === null || applied.prorationDate < periodStart) return undefined;
    return applied.prorationDate;
  }
}
