import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { BillingCall } from '../../../platform/http/decorators.js';
import {
  accountInScope,
  isInternal,
  ownAccountOf,
  type Principal,
} from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { CreatePaymentHandler } from '../commands/create-payment/create-payment.handler.js';
import { CreatePaymentOutcome } from './create-payment.outcome.js';
import { PaymentQueries } from '../queries/payment.queries.js';
import { ListPaymentsQueryDto, PaymentDetailDto, PaymentListDto } from './dto/payment-query.dto.js';
import { CreatePaymentDto, PaymentDto } from './dto/payment.dto.js';
import { toPaymentDto } from './dto/payment.mapper.js';

@ApiTags('payments')
@ApiBearerAuth()
@Controller('v1/payments')
export class PaymentsController {
  constructor(
    private readonly create: CreatePaymentHandler,
    private readonly queries: PaymentQueries,
  ) {}

  @Get()
  @Roles('owner', 'finance', 'support', 'admin')
  @ApiOperation({
    summary:
      'Payment history (R-PAY-3): filters, sort by created or amount in either direction, cursor pages in a stable order. Owners see their own account; internal roles pass `accountId`.',
  })
  @ApiOkResponse({ type: PaymentListDto })
  @ApiErrors('validation_failed', 'forbidden', 'not_found')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListPaymentsQueryDto,
  ): Promise<PaymentListDto> {
    const accountId = accountInScope(principal, query.accountId);
    const page = await this.queries.list(accountId, query);
    return { ...page, data: page.data.map(toPaymentDto) };
  }

  @Get(':id')
  @Roles('owner', 'finance', 'support', 'admin')
  @ApiOperation({
    summary: 'One payment with its status history (oldest first) and refunds. Another account’s: 404.',
  })
  @ApiOkResponse({ type: PaymentDetailDto })
  @ApiErrors('forbidden', 'not_found')
  async detail(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<PaymentDetailDto> {
    const { payment, statusHistory, refunds } = await this.queries.detail(
      id,
      isInternal(principal) ? null : ownAccountOf(principal),
    );
    return { ...toPaymentDto(payment), statusHistory, refunds };
  }

  @Post()
  @BillingCall()
  @Roles('owner')
  @Idempotent({ required: true, outcome: CreatePaymentOutcome })
  @ApiOperation({
    summary:
      'Charge a saved payment method once. 201 with the payment (succeeded, processing, or requires_action with `nextAction` for 3-D Secure); 402 for a decline (the payment is kept as failed, its id in `details.payment_id`); 202 when the provider did not answer (status `unknown`, settled automatically).',
  })
  @ApiCreatedResponse({ type: PaymentDto })
  @ApiAcceptedResponse({ type: PaymentDto, description: 'Outcome unknown; a janitor settles it.' })
  @ApiErrors(
    'billing_disabled',
    'validation_failed',
    'invalid_amount',
    'amount_too_small',
    'amount_too_large',
    'unsupported_currency',
    'card_data_forbidden',
    'forbidden',
    'not_found',
    'card_declined',
    'insufficient_funds',
    'expired_card',
    'incorrect_cvc',
    'incorrect_number',
    'processing_error',
    'authentication_required',
    'payment_provider_error',
    // Creating the account's Stripe customer on first need fails like any Stripe call; the charge itself
    // answers 202 `unknown` instead.
    'payment_provider_unavailable',
    'payment_provider_rate_limited',
    'idempotency_key_required',
    'idempotency_key_invalid',
    'idempotency_key_reused',
    'idempotency_request_in_progress',
    'idempotency_key_in_use',
  )
  async createPayment(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreatePaymentDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PaymentDto> {
    const result = await this.create.execute({ accountId: ownAccountOf(principal), ...body });
    if (result.outcomeUnknown) void reply.status(202);
    const payment = toPaymentDto(result.payment);
    return result.nextAction ? { ...payment, nextAction: result.nextAction } : payment;
  }
}
