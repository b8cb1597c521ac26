import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../../platform/auth/auth.decorators.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { CreateRefundHandler } from '../commands/create-refund/create-refund.handler.js';
import { CreateRefundOutcome } from './create-refund.outcome.js';
import { RefundQueries } from '../queries/refund.queries.js';
import { CreateRefundDto, ListRefundsQueryDto, RefundDto, RefundListDto } from './dto/refund.dto.js';
import { toRefundDto } from './dto/refund.mapper.js';

@ApiTags('refunds')
@ApiBearerAuth()
@Controller('v1')
@Roles('finance', 'support', 'admin')
export class RefundsController {
  constructor(
    private readonly create: CreateRefundHandler,
    private readonly queries: RefundQueries,
  ) {}

  @Post('payments/:id/refunds')
  @Idempotent({ required: true, outcome: CreateRefundOutcome })
  @ApiOperation({
    summary:
      'Refund a payment, in part or (amount omitted) everything still refundable. Finance, support and admin only. The refund is pending until Stripe settles it by webhook. 409 `refund_exceeds_remaining` also when Stripe has less left to refund (e.g. refunded in its dashboard, webhook not yet seen); the refund is then kept as failed.',
  })
  @ApiCreatedResponse({ type: RefundDto })
  @ApiErrors(
    'validation_failed',
    'forbidden',
    'not_found',
    'invalid_amount',
    'refund_exceeds_remaining',
    'refund_window_expired',
    'payment_not_refundable',
    'payment_provider_error',
    'idempotency_key_required',
    'idempotency_key_invalid',
    'idempotency_key_reused',
    'idempotency_request_in_progress',
    'idempotency_key_in_use',
  )
  async refund(@Param('id') paymentId: string, @Body() body: CreateRefundDto): Promise<RefundDto> {
    return toRefundDto(await this.create.execute({ paymentId, ...body }));
  }

  @Get('refunds')
  @ApiOperation({
    summary: 'Refunds, newest first, with filters (account, payment, status) and cursor pages.',
  })
  @ApiOkResponse({ type: RefundListDto })
  @ApiErrors('validation_failed', 'forbidden')
  async list(@Query() query: ListRefundsQueryDto): Promise<RefundListDto> {
    const page = await this.queries.list(query);
    return { ...page, data: page.data.map(toRefundDto) };
  }
}
