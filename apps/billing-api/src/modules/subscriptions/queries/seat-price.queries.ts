import { Injectable } from '@nestjs/common';
import { ApiError } from '../../../platform/http/api-error.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { SeatChanges, type SeatPrice } from '../machine/seat-changes.js';

/** The price of a seat change before it is made (R-PLAN-3), from Stripe's preview. */
export interface SeatPriceView {
  fromSeats: number;
  toSeats: number;
  price: SeatPrice;
}

/**
 * Prices `PUT /v1/subscription/seats` before it is made: Stripe's preview, stored as a seats-only quote
 * whose id is returned (`price.quoteId`); the change made with it is charged exactly this until the
 * quote expires. The machine's refusals come first (`downgrade_blocked_by_seats`,
 * `outstanding_balance`, `seat_addon_unavailable`).
 */
@Injectable()
export class SeatPriceQueries {
  constructor(
    private readonly seats: SeatChanges,
    private readonly accounts: AccountsFacade,
  ) {}

  async price(accountId: string, purchased: number): Promise<SeatPriceView> {
    return this.seats.inAccountLock(accountId, async (manager) => {
      const scope = await this.seats.liveScope(manager, accountId);
      if (purchased === scope.purchasedSeats) {
        throw new ApiError('validation_failed', `The account already has ${purchased} purchased seats.`, {
          param: 'purchased',
        });
      }
      const memberCount = await this.accounts.countMembers(accountId, manager);
      const price = await this.seats.price(scope.row, purchased, memberCount);
      return { fromSeats: scope.purchasedSeats, toSeats: purchased, price };
    });
  }
}
