import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { CurrentPrincipal, Public, Roles } from '../../../platform/auth/auth.decorators.js';
import { BillingCall } from '../../../platform/http/decorators.js';
import {
  accountInScope,
  isInternal,
  ownAccountOf,
  type Principal,
} from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { IDEMPOTENCY_ERRORS, Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { ChangeCancellationHandler } from '../commands/change-cancellation/change-cancellation.handler.js';
import { OpenBillingPortalHandler } from '../commands/open-billing-portal/open-billing-portal.handler.js';
import { CompleteCheckoutHandler } from '../commands/start-checkout/complete-checkout.handler.js';
import { StartCheckoutHandler } from '../commands/start-checkout/start-checkout.handler.js';
import { StartTrialHandler } from '../commands/start-trial/start-trial.handler.js';
import { SubscriptionViewQueries } from '../queries/subscription-view.queries.js';
import {
  BillingPortalDto,
  CancellationResultDto,
  CancelSubscriptionDto,
  InternalSubscriptionDto,
  MemberSubscriptionDto,
  OwnerSubscriptionDto,
  SubscriptionQueryDto,
} from './dto/subscription-view.dto.js';
import {
  CheckoutCompleteQueryDto,
  CheckoutCompletionDto,
  CheckoutSessionDto,
  StartCheckoutDto,
  StartTrialDto,
} from './dto/start-subscription.dto.js';

const STRIPE_ERRORS = [
  'payment_provider_unavailable',
  'payment_provider_rate_limited',
  'payment_provider_error',
] as const;

@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1')
export class SubscriptionController {
  constructor(
    private readonly views: SubscriptionViewQueries,
    private readonly cancellation: ChangeCancellationHandler,
    private readonly portal: OpenBillingPortalHandler,
    private readonly checkout: StartCheckoutHandler,
    private readonly completion: CompleteCheckoutHandler,
    private readonly trial: StartTrialHandler,
  ) {}

  @Post('subscription/checkout')
  @BillingCall()
  @HttpCode(200)
  @Roles('owner')
  @Idempotent({ required: true })
  @ApiOperation({
    summary:
      "Start a paid subscription on Stripe's hosted Checkout (R-SUB-1/2): returns the session's URL. The same account, plan and seats while a session is open get the same session (double-click safe). No trial (a resubscription after a cancellation goes here too). 409 `invalid_transition` while a live subscription exists.",
  })
  @ApiOkResponse({ type: CheckoutSessionDto })
  @ApiErrors(
    'billing_disabled',
    'validation_failed',
    'forbidden',
    'invalid_transition',
    'plan_not_found',
    'seat_addon_unavailable',
    'service_unavailable',
    ...IDEMPOTENCY_ERRORS,
    ...STRIPE_ERRORS,
  )
  startCheckout(
    @CurrentPrincipal() principal: Principal,
    @Body() body: StartCheckoutDto,
  ): Promise<CheckoutSessionDto> {
    return this.checkout.execute({
      accountId: ownAccountOf(principal),
      planId: body.plan,
      interval: body.interval,
      seats: body.seats ?? 0,
    });
  }

  @Get('subscription/checkout/complete')
  @Public()
  @ApiOperation({
    summary:
      "Checkout's success callback (Stripe sends the browser here with `session_id`): reads the session and its subscription from Stripe and applies them like the `checkout.session.completed` webhook; whichever comes first, both converge on one subscription (R-SUB-2). No token needed: it only reads what Stripe says. A session the app did not open: 404.",
  })
  @ApiOkResponse({ type: CheckoutCompletionDto })
  @ApiErrors('validation_failed', 'not_found', ...STRIPE_ERRORS)
  completeCheckout(@Query() query: CheckoutCompleteQueryDto): Promise<CheckoutCompletionDto> {
    return this.completion.execute(query.session_id);
  }

  @Post('subscription/trial')
  @BillingCall()
  @HttpCode(200)
  @Roles('owner')
  @Idempotent({ required: true })
  @ApiOperation({
    summary:
      "Start the account's one trial (R-SUB-1): 14 days of a trial-eligible plan, monthly, without a payment method; a trial that ends without one returns the account to Free with nothing deleted. 409 `trial_already_used` once any subscription of the account had a trial, `invalid_transition` while one is live; 422 `trial_not_available` for a plan without trials.",
  })
  @ApiOkResponse({ type: OwnerSubscriptionDto })
  @ApiErrors(
    'billing_disabled',
    'validation_failed',
    'forbidden',
    'invalid_transition',
    'trial_already_used',
    'trial_not_available',
    'plan_not_found',
    'service_unavailable',
    ...IDEMPOTENCY_ERRORS,
    ...STRIPE_ERRORS,
  )
  async startTrial(
    @CurrentPrincipal() principal: Principal,
    @Body() body: StartTrialDto,
  ): Promise<OwnerSubscriptionDto> {
    const accountId = ownAccountOf(principal);
    await this.trial.execute(accountId, body.plan);
    return this.views.forOwner(accountId);
  }

  @Get('subscription')
  @Roles('owner', 'member', 'finance', 'support', 'admin')
  @ApiOperation({
    summary:
      "The account's subscription as the caller's role may see it (R-SUB-8): owners everything (card as brand and last 4), members the tier and renewal date, finance/support/admin the billing status (pass `accountId`).",
  })
  @ApiExtraModels(OwnerSubscriptionDto, MemberSubscriptionDto, InternalSubscriptionDto)
  @ApiOkResponse({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(OwnerSubscriptionDto) },
        { $ref: getSchemaPath(MemberSubscriptionDto) },
        { $ref: getSchemaPath(InternalSubscriptionDto) },
      ],
    },
  })
  @ApiErrors('validation_failed', 'forbidden', 'not_found')
  async view(
    @CurrentPrincipal() principal: Principal,
    @Query() query: SubscriptionQueryDto,
  ): Promise<OwnerSubscriptionDto | MemberSubscriptionDto | InternalSubscriptionDto> {
    const accountId = accountInScope(principal, query.accountId);
    if (isInternal(principal)) return this.views.forInternal(accountId);
    return principal.role === 'owner' ? this.views.forOwner(accountId) : this.views.forMember(accountId);
  }

  @Post('subscription/cancel')
  @HttpCode(200)
  @Roles('owner')
  @Idempotent({ required: true })
  @ApiOperation({
    summary:
      'Cancel at the period end (access until then, then Free; can be resumed before it) or now (Free at once; nothing is refunded, as the answer says) (R-SUB-5). 409 `invalid_transition` when there is no live subscription or it is already canceled that way.',
  })
  @ApiOkResponse({ type: CancellationResultDto })
  @ApiErrors('validation_failed', 'forbidden', 'invalid_transition', ...IDEMPOTENCY_ERRORS, ...STRIPE_ERRORS)
  async cancel(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CancelSubscriptionDto,
  ): Promise<CancellationResultDto> {
    const accountId = ownAccountOf(principal);
    await this.cancellation.execute(
      accountId,
      body.when === 'now' ? 'cancel_immediately' : 'cancel_at_period_end',
    );
    const subscription = await this.views.forOwner(accountId);
    return {
      subscription,
      refunded: 0,
      message:
        body.when === 'now'
          ? 'Canceled now: the account is on the Free plan. Nothing is refunded for the rest of the period.'
          : `Cancels at the end of the period${subscription.endsAt ? ` (${subscription.endsAt})` : ''}: access continues until then. Nothing is refunded.`,
    };
  }

  @Post('subscription/resume')
  @BillingCall()
  @HttpCode(200)
  @Roles('owner')
  @Idempotent({ required: true })
  @ApiOperation({
    summary:
      'Resume a subscription canceled at the period end, before the period ends (R-SUB-5). After the end: 409 `invalid_transition`; subscribe again through checkout (no trial).',
  })
  @ApiOkResponse({ type: OwnerSubscriptionDto })
  @ApiErrors('billing_disabled', 'forbidden', 'invalid_transition', ...IDEMPOTENCY_ERRORS, ...STRIPE_ERRORS)
  async resume(@CurrentPrincipal() principal: Principal): Promise<OwnerSubscriptionDto> {
    const accountId = ownAccountOf(principal);
    await this.cancellation.execute(accountId, 'resume');
    return this.views.forOwner(accountId);
  }

  @Post('billing-portal')
  @BillingCall()
  @HttpCode(200)
  @Roles('owner')
  @ApiOperation({
    summary:
      "A Stripe Customer Portal session for the account's payment methods and invoices (R-SUB-6); open its URL in the browser. It returns to PUBLIC_BASE_URL.",
  })
  @ApiOkResponse({ type: BillingPortalDto })
  @ApiErrors('billing_disabled', 'forbidden', ...STRIPE_ERRORS)
  async openPortal(@CurrentPrincipal() principal: Principal): Promise<BillingPortalDto> {
    return { url: await this.portal.execute(ownAccountOf(principal)) };
  }
}
