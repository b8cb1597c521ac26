import { Body, Controller, Delete, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { assertAccountAccess, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { SEAT_CHANGE_ERRORS } from './seat-errors.js';
import { AddMemberHandler } from '../commands/add-member/add-member.handler.js';
import { RemoveMemberHandler } from '../commands/remove-member/remove-member.handler.js';
import {
  AddMemberDto,
  AddMemberResultDto,
  RemoveMemberQueryDto,
  RemoveMemberResultDto,
} from './dto/seats.dto.js';

/**
 * Adding and removing members, each taking a seat (R-PLAN-3). The list is `GET
 * /v1/accounts/{id}/members` (accounts module); these change it together with the add-on seats.
 */
@ApiTags('accounts')
@ApiBearerAuth()
@ApiParam({
  name: 'accountId',
  format: 'uuid',
  description: 'A UUID (anything else is a 400 validation_failed).',
})
@Controller('v1/accounts/:accountId/members')
export class MembersController {
  constructor(
    private readonly add: AddMemberHandler,
    private readonly remove: RemoveMemberHandler,
  ) {}

  @Post()
  @Roles('owner')
  @Idempotent({ required: true })
  @ApiOperation({
    summary:
      'Add a member (owner). Each member takes a seat (included + purchased add-on seats). No free seat: 409 `seat_limit_reached` with the price of the extra seat for the rest of the period (`details.seatPrice`, from Stripe, stored as a seats-only quote: `seatPrice.quoteId`, until `seatPrice.priceLockedUntil`), unless `buySeat` is true: then the add-on seat is bought, charged pro rata now (exactly the price shown with that `quoteId`; without it, the price Stripe gives at that moment), and the member added, together (a declined charge adds neither: 402). A quote of another change is 409 `quote_mismatch`; an expired, stale or used one `quote_expired`, `quote_stale`, `quote_already_applied`. Requires Idempotency-Key; a second click with another key is 409 `member_already_exists` and buys nothing. Billing off for the account (R-PLAN-5): buying a seat, or the price of a missing seat, is 409 `billing_disabled` (no Stripe call); a free seat is still taken.',
  })
  @ApiCreatedResponse({ type: AddMemberResultDto })
  @ApiErrors(
    'member_already_exists',
    'seat_limit_reached',
    'billing_disabled',
    'quote_mismatch',
    'quote_expired',
    'quote_stale',
    'quote_already_applied',
    ...SEAT_CHANGE_ERRORS,
  )
  addMember(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', new ParseUUIDPipe()) accountId: string,
    @Body() body: AddMemberDto,
  ): Promise<AddMemberResultDto> {
    assertAccountAccess(principal, accountId);
    return this.add.execute({
      accountId,
      userId: body.userId,
      email: body.email,
      buySeat: body.buySeat ?? false,
      ...(body.quoteId !== undefined ? { quoteId: body.quoteId } : {}),
    });
  }

  @Delete(':userId')
  @Roles('owner')
  @Idempotent()
  @ApiParam({ name: 'userId', description: "The member's user id." })
  @ApiOperation({
    summary:
      "Remove a member (owner): their seat is free at once. When the account then has more add-on seats than its members need, one is released and Stripe credits its unused time on the next invoice (`keepSeat=true` keeps it). The owner can't be removed (409 `owner_not_removable`). Billing off for the account (R-PLAN-5): a removal that would release a seat at Stripe is 409 `billing_disabled` and changes nothing (`keepSeat=true` works).",
  })
  @ApiOkResponse({ type: RemoveMemberResultDto })
  @ApiErrors('owner_not_removable', 'billing_disabled', ...SEAT_CHANGE_ERRORS)
  removeMember(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', new ParseUUIDPipe()) accountId: string,
    @Param('userId') userId: string,
    @Query() query: RemoveMemberQueryDto,
  ): Promise<RemoveMemberResultDto> {
    assertAccountAccess(principal, accountId);
    return this.remove.execute({ accountId, userId, keepSeat: query.keepSeat === 'true' });
  }
}
