import { BILLING_INTERVALS, type Catalogue } from '@billing/domain';
import { Inject, Injectable } from '@nestjs/common';
import { CATALOGUE } from '../catalog.tokens.js';
import type { PlanListView } from '../contracts/plan.view.js';

/** The catalogue's plans by tier (`GET /v1/plans`), as a view: the controller maps it to its DTO. */
@Injectable()
export class PlansQueries {
  private readonly list: PlanListView;

  constructor(@Inject(CATALOGUE) catalogue: Catalogue) {
    // The catalogue is fixed for the life of the process: build the answer once.
    const plans = [...catalogue.plans].sort((a, b) => a.tier - b.tier);
    const currency =
      plans
        .flatMap((p) => BILLING_INTERVALS.map((i) => p.prices[i]?.currency))
        .find((c) => c !== undefined) ?? 'usd';
    this.list = {
      currency,
      plans: plans.map((p) => ({
        id: p.id,
        name: p.name,
        tier: p.tier,
        includedSeats: p.includedSeats,
        trialAvailable: p.trialEligible,
        features: [...p.features],
        prices: BILLING_INTERVALS.flatMap((interval) => {
          const price = p.prices[interval];
          return price
            ? [
                {
                  interval,
                  amount: price.amountMinor,
                  seatAmount: p.seatAddOnPrices[interval]?.amountMinor ?? null,
                },
              ]
            : [];
        }),
      })),
    };
  }

  plans(): PlanListView {
    return this.list;
  }
}
