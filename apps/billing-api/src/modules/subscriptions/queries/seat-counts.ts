import { seatTotal, type PlanDefinition } from '@billing/domain';

/** The seats of an account as the API shows them (R-PLAN-3): used by members, included, purchased, total. */
export interface SeatCounts {
  used: number;
  included: number;
  purchased: number;
  total: number;
}

export function seatCounts(plan: PlanDefinition, purchased: number, used: number): SeatCounts {
  return { used, included: plan.includedSeats, purchased, total: seatTotal(plan, purchased) };
}
