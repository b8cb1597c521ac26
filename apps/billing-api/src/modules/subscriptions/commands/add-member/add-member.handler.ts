import { checkAddMember, rejection } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { ApiError } from '../../../../platform/http/api-error.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import type { MemberView } from '../../../accounts/contracts/account.view.js';
import { SeatChanges, type AppliedSeatChange } from '../../machine/seat-changes.js';
import { seatCounts, type SeatCounts } from '../../queries/seat-counts.js';

export interface AddMemberCommand {
  accountId: string;
  userId: string;
  email: string;
  /** The owner agreed to buy the seat(s) the new member needs, charged pro rata now. */
  buySeat: boolean;
  /** The seats quote of the price shown (`seat_limit_reached`): buying is charged exactly that. */
  quoteId?: string;
}

export interface AddMemberResult {
  member: MemberView;
  seats: SeatCounts;
  /** The add-on seats bought for this member and their charge; null when a seat was free. */
  purchase: AppliedSeatChange | null;
}

/**
 * Adds a member to the account (R-PLAN-3), under the account's seat lock. A free seat is taken at once.
 * Without one, the request is refused with 409 `seat_limit_reached` and Stripe's price of the extra seat
 * for the rest of the period, stored as a seats-only quote (`seatPrice.quoteId`), unless it asks to buy
 * it (`buySeat`): then the add-on seat is bought through that quote (`quoteId`: charged exactly the price
 * shown) or one made now, and the member added in one transaction, so a declined charge adds neither.
 * A plan that sells no seats is 422 `seat_addon_unavailable`.
 */
@Injectable()
export class AddMemberHandler {
  constructor(
    private readonly seats: SeatChanges,
    private readonly accounts: AccountsFacade,
  ) {}

  async execute(command: AddMemberCommand): Promise<AddMemberResult> {
    return this.seats.inAccountLock(command.accountId, async (manager) => {
      if (await this.accounts.member(manager, command.accountId, command.userId)) {
        // Checked before any price or charge: a second click of "add and buy" buys nothing.
        throw ApiError.fromRejection(
          rejection('member_already_exists', 'this user is already a member of the account', {
            userId: command.userId,
          }),
          'userId',
        );
      }
      const scope = await this.seats.scope(manager, command.accountId);
      const memberCount = await this.accounts.countMembers(command.accountId, manager);
      const interval = scope.row?.interval ?? undefined;
      const check = checkAddMember({
        plan: scope.plan,
        purchasedSeats: scope.purchasedSeats,
        memberCount,
        buySeat: command.buySeat,
        ...(interval ? { interval } : {}),
      });
      if (!check.ok) {
        if (check.error.code !== 'seat_limit_reached' || !scope.row)
          throw ApiError.fromRejection(check.error);
        const needed = Number(check.error.details?.seatsNeeded ?? 1);
        const price = await this.seats.price(scope.row, scope.purchasedSeats + needed, memberCount + 1);
        throw new ApiError('seat_limit_reached', check.error.message, {
          details: {
            ...check.error.details,
            seatPrice: {
              ...price,
              interval,
              unitAmount: interval ? (scope.plan.seatAddOnPrices[interval]?.amountMinor ?? null) : null,
            },
            action: 'buy_seat',
          },
        });
      }
      let purchase: AppliedSeatChange | null = null;
      if (check.value.purchaseSeats > 0 && scope.row) {
        purchase = await this.seats.apply(manager, scope.row, {
          seats: scope.purchasedSeats + check.value.purchaseSeats,
          memberCount: memberCount + 1,
          reason: `member_added:${command.userId}`,
          ...(command.quoteId !== undefined ? { quoteId: command.quoteId } : {}),
        });
      }
      const member = await this.accounts.addMember(manager, command);
      return {
        member,
        seats: seatCounts(scope.plan, purchase ? purchase.toSeats : scope.purchasedSeats, memberCount + 1),
        purchase,
      };
    });
  }
}
