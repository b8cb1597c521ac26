import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { accountInScope, ownAccountOf, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { IDEMPOTENCY_ERRORS, Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { STRIPE_ERROR_CODES } from '../../../platform/stripe/stripe-errors.js';
import { ApplyPlanChangeHandler } from '../commands/apply-plan-change/apply-plan-change.handler.js';
import { QuotePlanChangeHandler } from '../commands/quote-plan-change/quote-plan-change.handler.js';
import { PlanQuoteQueries } from '../queries/plan-quote.queries.js';
import { SubscriptionViewQueries } from '../queries/subscription-view.queries.js';
import {
  ApplyQuoteDto,
  CreateQuoteDto,
  PlanChangeResultDto,
  PlanQuoteDto,
  QuoteIdParamDto,
} from './dto/plan-change.dto.js';
import { SubscriptionQueryDto } from './dto/subscription-view.dto.js';

/** What the machine refuses of a plan or seat change, at quote time and again when it is applied. */
const CHANGE_REFUSALS = [
  'invalid_transition',
  'outstanding_balance',
  'downgrade_blocked_by_seats',
  'same_plan',
  'plan_not_found',
  'seat_addon_unavailable',
] as const;

/**
 * Plan and seat changes through locked quotes (R-SUB-3/4/10, R-PLAN-3): Stripe prices the change, the
 * owner applies exactly that price.
 */
@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1/subscription')
export class PlanChangeController {
  constructor(
    private readonly quoting: QuotePlanChangeHandler,
    private readonly applying: ApplyPlanChangeHandler,
    private readonly quotes: PlanQuoteQueries,
    private readonly views: SubscriptionViewQueries,
  ) {}

  @Post('quotes')
  @HttpCode(201)
  @Roles('owner')
  @Idempotent()
  @ApiOperation({
    summary:
      "Price a plan or seat change with Stripe's invoice preview and lock it as a quote (R-SUB-3): what is charged now, the unused time credited, the credit balance used, the next invoice, and when the quote expires (QUOTE_TTL_MINUTES). Nothing changes until `POST /v1/subscription/change`. 409 `outstanding_balance` (with the pay-now action) for an upgrade or more seats while past_due, `downgrade_blocked_by_seats` (naming `membersToRemove`) when the seats would not cover the members, `same_plan` when nothing would change, `invalid_transition` without a live subscription (or for another plan while a downgrade is scheduled: withdraw it first); 422 `plan_not_found`, `seat_addon_unavailable`. Another billing interval restarts the billing cycle at the change and is invoiced now in either direction (`billingCycleRestarts`; a credit larger than the charge goes to the credit balance, `creditBalanceAdded`); refused while past_due (`outstanding_balance`). The current plan and seats while a downgrade is scheduled: a `downgrade_withdrawn` quote (nothing charged now; `nextInvoice` is what Stripe bills at the renewal).",
  })
  @ApiCreatedResponse({ type: PlanQuoteDto })
  @ApiErrors(
    'validation_failed',
    'forbidden',
    ...CHANGE_REFUSALS,
    'service_unavailable',
    ...IDEMPOTENCY_ERRORS,
    ...STRIPE_ERROR_CODES,
  )
  createQuote(@CurrentPrincipal() principal: Principal, @Body() body: CreateQuoteDto): Promise<PlanQuoteDto> {
    return this.quoting.execute(ownAccountOf(principal), {
      planId: body.plan,
      interval: body.interval,
      seats: body.seats ?? 0,
    });
  }

  @Get('quotes/:id')
  @Roles('owner', 'finance', 'support', 'admin')
  @ApiOperation({
    summary:
      "A quote of the account (owners their own; finance, support and admin pass `accountId`). Another account's quote is 404.",
  })
  @ApiOkResponse({ type: PlanQuoteDto })
  @ApiErrors('validation_failed', 'forbidden', 'not_found')
  getQuote(
    @CurrentPrincipal() principal: Principal,
    @Param() params: QuoteIdParamDto,
    @Query() query: SubscriptionQueryDto,
  ): Promise<PlanQuoteDto> {
    return this.quotes.forAccount(accountInScope(principal, query.accountId), params.id);
  }

  @Post('change')
  @HttpCode(200)
  @Roles('owner')
  @Idempotent({ required: true })
  @ApiOperation({
    summary:
      "Apply exactly a quote (R-SUB-3/4). An upgrade or added seats: Stripe invoices the prorations at the quote's proration date and charges the default method at once (the charge equals `amountDueNow` to the cent), the new tier applies at once; a declined card is 402 with the plan unchanged and the quote still open. A downgrade or removed seats: Stripe credits the unused time to the next invoice; a downgrade keeps the current tier until the period ends (`pendingDowngrade`), then switches. An interval change (`billingCycleRestarts`) is charged now like an upgrade (the new period less the unused time; a larger credit goes to the credit balance) and the plan, interval and period end change at once, in either direction. A `downgrade_withdrawn` quote withdraws the scheduled downgrade (`subscription.plan_change_withdrawn`): Stripe bills the kept plan again, the downgrade's prorations reversed on the next invoice, and nothing switches at the period end. One change per quote: 409 `quote_already_applied` for any other request with it, `quote_expired` after `expiresAt`, `quote_stale` when the subscription (its version, its Stripe items or period, or the credit balance) changed since the quote; `outstanding_balance` while past_due (upgrade, interval change), `downgrade_blocked_by_seats` when members outnumber the seats. A refusal changes nothing.",
  })
  @ApiOkResponse({ type: PlanChangeResultDto })
  @ApiErrors(
    'validation_failed',
    'forbidden',
    'not_found',
    'quote_expired',
    'quote_stale',
    'quote_already_applied',
    ...CHANGE_REFUSALS,
    ...IDEMPOTENCY_ERRORS,
    ...STRIPE_ERROR_CODES,
  )
  async change(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ApplyQuoteDto,
  ): Promise<PlanChangeResultDto> {
    const accountId = ownAccountOf(principal);
    const applied = await this.applying.execute(accountId, body.quoteId);
    return { subscription: await this.views.forOwner(accountId), quote: applied.quote };
  }
}
