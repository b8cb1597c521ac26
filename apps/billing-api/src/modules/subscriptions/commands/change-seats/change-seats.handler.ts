import { Injectable } from '@nestjs/common';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import type { PlanQuoteView } from '../../contracts/plan-quote.view.js';
import { SeatChanges, type AppliedSeatChange } from '../../machine/seat-changes.js';
import { seatCounts, type SeatCounts } from '../../queries/seat-counts.js';

export interface ChangeSeatsResult {
  seats: SeatCounts;
  /** What changed and what Stripe billed; null when the purchased seats were already `purchased`. */
  change: AppliedSeatChange | null;
  /** The seats quote the change applied (the caller's `quoteId`, or one made for it); null without a change. */
  quote: PlanQuoteView | null;
}

/**
 * Sets the purchased add-on seats directly (R-PLAN-3, `PUT /v1/subscription/seats`), under the
 * account's seat lock, by applying a seats-only quote: the caller's `quoteId` (the price of `GET
 * /v1/subscription/seats/price`, a `seat_limit_reached` or `POST /v1/subscription/quotes`: charged
 * exactly that), or one made now (Stripe's price at this instant). Buying is charged pro rata now;
 * releasing credits the unused time on the next invoice. Releasing below the members in use is 409
 * `downgrade_blocked_by_seats` with `membersToRemove` (R-EDGE-15); a plan without add-on seats is 422
 * `seat_addon_unavailable`; while past_due, buying is 409 `outstanding_balance`. A quote of another
 * change is 409 `quote_mismatch`. The same number again changes nothing (a double click buys once).
 */
@Injectable()
export class ChangeSeatsHandler {
  constructor(
    private readonly seats: SeatChanges,
    private readonly accounts: AccountsFacade,
  ) {}

  async execute(accountId: string, purchased: number, quoteId?: string): Promise<ChangeSeatsResult> {
    return this.seats.inAccountLock(accountId, async (manager) => {
      if (quoteId !== undefined) await this.seats.matchingQuote(manager, accountId, quoteId, purchased);
      const scope = await this.seats.liveScope(manager, accountId);
      const memberCount = await this.accounts.countMembers(accountId, manager);
      if (purchased === scope.purchasedSeats) {
        return { seats: seatCounts(scope.plan, purchased, memberCount), change: null, quote: null };
      }
      const change = await this.seats.apply(manager, scope.row, {
        seats: purchased,
        memberCount,
        reason: 'seats_set',
        ...(quoteId !== undefined ? { quoteId } : {}),
      });
      return { seats: seatCounts(scope.plan, change.toSeats, memberCount), change, quote: change.quote };
    });
  }
}
