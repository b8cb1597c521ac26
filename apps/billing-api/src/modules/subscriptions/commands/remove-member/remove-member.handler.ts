import { seatsAfterRemoval } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { SeatChanges, type AppliedSeatChange } from '../../machine/seat-changes.js';
import { seatCounts, type SeatCounts } from '../../queries/seat-counts.js';

export interface RemoveMemberCommand {
  accountId: string;
  userId: string;
  /** Keep every purchased add-on seat (the freed seat stays paid for, for the next member). */
  keepSeat: boolean;
}

export interface RemoveMemberResult {
  seats: SeatCounts;
  /** The add-on seat released with the member and its credit (on the next invoice); null when none. */
  release: AppliedSeatChange | null;
}

/**
 * Removes a member (R-PLAN-3), under the account's seat lock: their seat is free at once. When the
 * account then has more purchased add-on seats than its members need, one add-on seat is released
 * (`seatsAfterRemoval`) and Stripe credits its unused time on the next invoice (`create_prorations`),
 * unless the owner keeps it (`keepSeat`). The owner cannot be removed (409 `owner_not_removable`).
 */
@Injectable()
export class RemoveMemberHandler {
  constructor(
    private readonly seats: SeatChanges,
    private readonly accounts: AccountsFacade,
  ) {}

  async execute(command: RemoveMemberCommand): Promise<RemoveMemberResult> {
    return this.seats.inAccountLock(command.accountId, async (manager) => {
      const memberCount = await this.accounts.countMembers(command.accountId, manager);
      // 404 / owner_not_removable before anything is released.
      await this.accounts.removeMember(manager, { accountId: command.accountId, userId: command.userId });
      const scope = await this.seats.scope(manager, command.accountId);
      const after = seatsAfterRemoval({
        plan: scope.plan,
        purchasedSeats: scope.purchasedSeats,
        memberCount,
      });
      let release: AppliedSeatChange | null = null;
      if (!command.keepSeat && after.releasedAddOnSeats > 0 && scope.row) {
        release = await this.seats.apply(manager, scope.row, {
          seats: after.purchasedSeats,
          memberCount: after.memberCount,
          reason: `member_removed:${command.userId}`,
        });
      }
      return {
        seats: seatCounts(scope.plan, release ? release.toSeats : scope.purchasedSeats, after.memberCount),
        release,
      };
    });
  }
}
