import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { ownAccountOf, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { BillingCall } from '../../../platform/http/decorators.js';
import { Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { SEAT_CHANGE_ERRORS } from './seat-errors.js';
import { ChangeSeatsHandler } from '../commands/change-seats/change-seats.handler.js';
import { SeatPriceQueries } from '../queries/seat-price.queries.js';
import {
  ChangeSeatsDto,
  ChangeSeatsResultDto,
  SeatPriceQueryDto,
  SeatPriceResultDto,
} from './dto/seats.dto.js';

/** Buying and releasing add-on seats directly (R-PLAN-3). */
@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1/subscription/seats')
export class SeatsController {
  constructor(
    private readonly seats: ChangeSeatsHandler,
    private readonly prices: SeatPriceQueries,
  ) {}

  @Get('price')
  @BillingCall()
  @Roles('owner')
  @ApiOperation({
    summary:
      "Stripe's price of setting the purchased add-on seats to `purchased` (owner), before doing it: more seats are charged pro rata now (`amountDue`), fewer credited on the next invoice (negative `amountMinor`). The price is stored as a seats-only quote (`price.quoteId`, expiring at `priceLockedUntil`, QUOTE_TTL_MINUTES): `PUT /v1/subscription/seats` with that `quoteId` is charged exactly this. The refusals the change would meet come first; the current number is a 400.",
  })
  @ApiOkResponse({ type: SeatPriceResultDto })
  @ApiErrors(
    'validation_failed',
    'forbidden',
    'not_found',
    'invalid_transition',
    'billing_disabled',
    'downgrade_blocked_by_seats',
    'seat_addon_unavailable',
    'outstanding_balance',
    'service_unavailable',
    'payment_provider_unavailable',
    'payment_provider_rate_limited',
    'payment_provider_error',
  )
  price(
    @CurrentPrincipal() principal: Principal,
    @Query() query: SeatPriceQueryDto,
  ): Promise<SeatPriceResultDto> {
    return this.prices.price(ownAccountOf(principal), query.purchased);
  }

  @Put()
  @BillingCall()
  @Roles('owner')
  @Idempotent({ required: true })
  @ApiOperation({
    summary:
      "Set the purchased add-on seats (owner), always through a seats-only quote: with `quoteId` (the `price.quoteId` of `GET /v1/subscription/seats/price` or a `seat_limit_reached`, or a seats-only quote of `POST /v1/subscription/quotes`), charged exactly that price; without it, a quote made at once (Stripe's price now), returned as `quote`. More seats are charged pro rata now; fewer are credited pro rata on the next invoice. Releasing below the members in use is 409 `downgrade_blocked_by_seats` with `details.membersToRemove`; buying while past_due is 409 `outstanding_balance`; a plan without add-on seats is 422 `seat_addon_unavailable`; no live subscription is 409 `invalid_transition`. The same number again changes nothing (a double click buys once). A quote of a plan change or another seat count is 409 `quote_mismatch`, an expired, stale or used one `quote_expired`, `quote_stale`, `quote_already_applied`. Requires Idempotency-Key.",
  })
  @ApiOkResponse({ type: ChangeSeatsResultDto })
  @ApiErrors(
    'downgrade_blocked_by_seats',
    'billing_disabled',
    'quote_mismatch',
    'quote_expired',
    'quote_stale',
    'quote_already_applied',
    ...SEAT_CHANGE_ERRORS,
  )
  change(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ChangeSeatsDto,
  ): Promise<ChangeSeatsResultDto> {
    return this.seats.execute(ownAccountOf(principal), body.purchased, body.quoteId);
  }
}
