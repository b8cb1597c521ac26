import { Injectable } from '@nestjs/common';
import { ApiError } from '../../../../platform/http/api-error.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import type { PlanQuoteView } from '../../contracts/plan-quote.view.js';
import { SubscriptionQuoteOrmEntity } from '../../persistence/subscription-quote.orm-entity.js';
import { ApplyPlanChangeHandler } from '../apply-plan-change/apply-plan-change.handler.js';
import { SeatChanges, type AppliedSeatChange } from '../../machine/seat-changes.js';
import { seatCounts, type SeatCounts } from '../../queries/seat-counts.js';

export interface ChangeSeatsResult {
  seats: SeatCounts;
  /** What changed and what Stripe billed; null when the purchased seats were already `purchased`. */
  change: AppliedSeatChange | null;
  /** The seats quote applied (`quoteId`): what Stripe charged is its `amountDueNow`; else null. */
  quote: PlanQuoteView | null;
}

/**
 * Sets the purchased add-on seats directly (R-PLAN-3, `PUT /v1/subscription/seats`), under the
 * account's seat lock. Buying is charged pro rata now (at the price a recent refusal showed, within
 * SEAT_PRICE_LOCK_MINUTES); releasing credits the unused time on the next invoice. Releasing below the
 * members in use is 409 `downgrade_blocked_by_seats` with `membersToRemove` (R-EDGE-15); a plan without
 * add-on seats is 422 `seat_addon_unavailable`; while past_due, buying is 409 `outstanding_balance`.
 * The same number again changes nothing (a double click buys once).
 */
@Injectable()
export class ChangeSeatsHandler {
  constructor(
    private readonly seats: SeatChanges,
    private readonly accounts: AccountsFacade,
    private readonly quotes: ApplyPlanChangeHandler,
  ) {}

  async execute(accountId: string, purchased: number, quoteId?: string): Promise<ChangeSeatsResult> {
    if (quoteId !== undefined) return this.applyQuote(accountId, purchased, quoteId);
    return this.seats.inAccountLock(accountId, async (manager) => {
      const scope = await this.seats.liveScope(manager, accountId);
      const memberCount = await this.accounts.countMembers(accountId, manager);
      if (purchased === scope.purchasedSeats) {
        return { seats: seatCounts(scope.plan, purchased, memberCount), change: null, quote: null };
      }
      const change = await this.seats.apply(manager, scope.row, {
        seats: purchased,
        memberCount,
        reason: 'seats_set',
      });
      return { seats: seatCounts(scope.plan, change.toSeats, memberCount), change, quote: null };
    });
  }

  /**
   * Applies a seats-only quote (`POST /v1/subscription/quotes` with the current plan and another seat
   * count) under the seat lock, through the quotes code: the charge is the quote's `amountDueNow`.
   * A quote of another kind or another seat count is 409 `quote_mismatch`; expiry, staleness and
   * double use are the quote's own refusals. The subscription row is not locked here: applying the
   * quote locks it itself.
   */
  private applyQuote(accountId: string, purchased: number, quoteId: string): Promise<ChangeSeatsResult> {
    return this.seats.inAccountLock(accountId, async (manager) => {
      const quote = await manager
        .getRepository(SubscriptionQuoteOrmEntity)
        .findOne({ where: { id: quoteId, accountId } });
      if (!quote) throw new ApiError('not_found', 'No such quote for this account.', { param: 'quoteId' });
      const seatsOnly = quote.kind === 'seats_added' || quote.kind === 'seats_removed';
      if (!seatsOnly || quote.seats !== purchased) {
        throw new ApiError(
          'quote_mismatch',
          seatsOnly
            ? `The quote is for ${quote.seats} purchased seats, not ${purchased}.`
            : 'The quote changes the plan, not only the seats: apply it with POST /v1/subscription/change.',
          { param: 'quoteId', details: { quoteId, kind: quote.kind, quotedSeats: quote.seats, purchased } },
        );
      }
      const applied = await this.quotes.execute(accountId, quoteId);
      const scope = await this.seats.scope(manager, accountId);
      const memberCount = await this.accounts.countMembers(accountId, manager);
      return {
        seats: seatCounts(scope.plan, applied.subscription.seats, memberCount),
        change: null,
        quote: applied.quote,
      };
    });
  }
}
