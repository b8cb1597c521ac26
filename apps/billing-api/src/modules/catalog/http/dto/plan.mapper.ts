import type { PlanListView } from '../../contracts/plan.view.js';
import type { PlanListDto } from './plan.dto.js';

/** The public shape of the catalogue (`GET /v1/plans`). */
export function toPlanListDto(view: PlanListView): PlanListDto {
  return {
    currency: view.currency,
    data: view.plans.map((p) => ({
      id: p.id,
      name: p.name,
      tier: p.tier,
      includedSeats: p.includedSeats,
      trialAvailable: p.trialAvailable,
      features: [...p.features],
      prices: p.prices.map((price) => ({
        interval: price.interval,
        amount: price.amount,
        seatAmount: price.seatAmount,
      })),
    })),
  };
}
