import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { ownAccountOf, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { IDEMPOTENCY_ERRORS, Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { STRIPE_ERROR_CODES } from '../../../platform/stripe/stripe-errors.js';
import { PayOutstandingHandler } from '../commands/pay-outstanding/pay-outstanding.handler.js';
import { PayOutstandingResultDto } from './dto/pay-outstanding.dto.js';

/** The pay-now action of a past-due subscription (R-SUB-10, R-EDGE-2). */
@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1/subscription')
export class PayOutstandingController {
  constructor(private readonly payOutstanding: PayOutstandingHandler) {}

  @Post('pay-outstanding')
  @HttpCode(200)
  @Roles('owner')
  @Idempotent({ required: true })
  @ApiOperation({
    summary:
      "Pay the subscription's open invoices now with the account's current default payment method (R-SUB-10): the action an `outstanding_balance` refusal points to. A decline is 402 with Stripe's code (update the card, then retry under a new Idempotency-Key); 409 `no_outstanding_invoice` when nothing is open. The subscription returns to active when Stripe's `invoice.paid` is applied.",
  })
  @ApiOkResponse({ type: PayOutstandingResultDto })
  @ApiErrors('forbidden', 'no_outstanding_invoice', ...IDEMPOTENCY_ERRORS, ...STRIPE_ERROR_CODES)
  pay(@CurrentPrincipal() principal: Principal): Promise<PayOutstandingResultDto> {
    return this.payOutstanding.execute(ownAccountOf(principal));
  }
}
