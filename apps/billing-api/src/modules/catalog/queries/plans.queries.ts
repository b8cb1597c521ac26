import { BILLING_INTERVALS, type Catalogue } from '@billing/domain';
import { Inject, Injectable } from '@nestjs/common';
import { CATALOGUE } from '../catalog.tokens.js';
import type { PlanListDto } from '../http/dto/plan.dto.js';

/** The catalogue as the API shows it (`GET /v1/plans`). */
@Injectable()
export class PlansQueries {
  private readonly list: PlanListDto;

  constructor(@Inject(CATALOGUE) catalogue: Catalogue) {
    // The catalogue is fixed for the life of the process: build the answer once.
    const plans = [...catalogue.plans].sort((a, b) => a.tier - b.tier);
    const currency =
      plans
        .flatMap((p) => BILLING_INTERVALS.map((i) => p.prices[i]?.currency))
        .find((c) => c !== undefined) ?? 'usd';
    this.list = {
      currency,
      data: plans.map((p) => ({
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

  plans(): PlanListDto {
    return this.list;
  }
}
