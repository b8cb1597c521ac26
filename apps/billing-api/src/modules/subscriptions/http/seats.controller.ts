import { Body, Controller, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { ownAccountOf, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { SEAT_CHANGE_ERRORS } from './seat-errors.js';
import { ChangeSeatsHandler } from '../commands/change-seats/change-seats.handler.js';
import { ChangeSeatsDto, ChangeSeatsResultDto } from './dto/seats.dto.js';

/** Buying and releasing add-on seats directly (R-PLAN-3). */
@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1/subscription/seats')
export class SeatsController {
  constructor(private readonly seats: ChangeSeatsHandler) {}

  @Put()
  @Roles('owner')
  @Idempotent({ required: true })
  @ApiOperation({
    summary:
      'Set the purchased add-on seats (owner). More seats are charged pro rata now (at the price a recent `seat_limit_reached` showed, within SEAT_PRICE_LOCK_MINUTES); fewer are credited pro rata on the next invoice. Releasing below the members in use is 409 `downgrade_blocked_by_seats` with `details.membersToRemove`; buying while past_due is 409 `outstanding_balance`; a plan without add-on seats is 422 `seat_addon_unavailable`; no live subscription is 409 `invalid_transition`. The same number again changes nothing. Requires Idempotency-Key.',
  })
  @ApiOkResponse({ type: ChangeSeatsResultDto })
  @ApiErrors('downgrade_blocked_by_seats', ...SEAT_CHANGE_ERRORS)
  change(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ChangeSeatsDto,
  ): Promise<ChangeSeatsResultDto> {
    return this.seats.execute(ownAccountOf(principal), body.purchased);
  }
}
