import { Controller, Delete, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { BillingCall } from '../../../platform/http/decorators.js';
import { ownAccountOf, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { ManagePaymentMethodsHandler } from '../commands/manage-payment-methods/manage-payment-methods.handler.js';
import { PaymentMethodQueries } from '../queries/payment-method.queries.js';
import { PaymentMethodDto, PaymentMethodListDto, SetupIntentDto } from './dto/payment-method.dto.js';
import { toPaymentMethodDto } from './dto/payment-method.mapper.js';

/** The account owner's saved payment methods (R-PAY-2). The account comes from the token. */
@ApiTags('payment methods')
@ApiBearerAuth()
@Controller('v1/payment-methods')
@Roles('owner')
export class PaymentMethodsController {
  constructor(
    private readonly commands: ManagePaymentMethodsHandler,
    private readonly queries: PaymentMethodQueries,
  ) {}

  @Post('setup-intents')
  @BillingCall()
  @Idempotent()
  @ApiOperation({
    summary:
      "Start saving a card: a SetupIntent on the account's Stripe customer (created on first need). Confirm its client secret with Stripe Elements in the browser.",
  })
  @ApiCreatedResponse({ type: SetupIntentDto })
  @ApiErrors(
    'billing_disabled',
    'forbidden',
    'not_found',
    'payment_provider_unavailable',
    'payment_provider_rate_limited',
    'payment_provider_error',
    'idempotency_key_reused',
    'idempotency_key_invalid',
    'idempotency_request_in_progress',
    'idempotency_key_in_use',
  )
  createSetupIntent(
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') key: string | string[] | undefined,
  ): Promise<SetupIntentDto> {
    return this.commands.createSetupIntent(ownAccountOf(principal), requestKeyOf(key));
  }

  @Get()
  @ApiOperation({ summary: 'The saved methods: brand, last 4, expiry, funding and the default flag.' })
  @ApiOkResponse({ type: PaymentMethodListDto })
  @ApiErrors('forbidden')
  async list(@CurrentPrincipal() principal: Principal): Promise<PaymentMethodListDto> {
    return { data: (await this.queries.list(ownAccountOf(principal))).map(toPaymentMethodDto) };
  }

  @Post(':id/default')
  @BillingCall()
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'Make a saved method the default (by our id or `pm_…`). Another account’s: 404.' })
  @ApiOkResponse({ type: PaymentMethodDto })
  @ApiErrors(
    'billing_disabled',
    'forbidden',
    'not_found',
    'payment_provider_unavailable',
    'payment_provider_rate_limited',
    'payment_provider_error',
    'idempotency_key_reused',
    'idempotency_key_invalid',
    'idempotency_request_in_progress',
    'idempotency_key_in_use',
  )
  async setDefault(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Headers('idempotency-key') key: string | string[] | undefined,
  ): Promise<PaymentMethodDto> {
    return toPaymentMethodDto(await this.commands.setDefault(ownAccountOf(principal), id, requestKeyOf(key)));
  }

  @Delete(':id')
  @Idempotent()
  @ApiOperation({
    summary: 'Detach a saved method at Stripe; the answer is its new state. Another account’s: 404.',
  })
  @ApiOkResponse({ type: PaymentMethodDto })
  @ApiErrors(
    'forbidden',
    'not_found',
    'payment_provider_unavailable',
    'payment_provider_rate_limited',
    'payment_provider_error',
    'idempotency_key_reused',
    'idempotency_key_invalid',
    'idempotency_request_in_progress',
    'idempotency_key_in_use',
  )
  async detach(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Headers('idempotency-key') key: string | string[] | undefined,
  ): Promise<PaymentMethodDto> {
    return toPaymentMethodDto(await this.commands.detach(ownAccountOf(principal), id, requestKeyOf(key)));
  }
}

/** The request's Idempotency-Key as the idempotency interceptor read (and validated) it. */
function requestKeyOf(header: string | string[] | undefined): string | undefined {
  const key = Array.isArray(header) ? header[0] : header;
  return key === '' ? undefined : key;
}

/** An owner's token always names an account; one that does not cannot see any. */
