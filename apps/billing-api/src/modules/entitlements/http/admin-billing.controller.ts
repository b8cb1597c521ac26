import { Body, Controller, Param, ParseUUIDPipe, Patch, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../../platform/auth/auth.decorators.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { IDEMPOTENCY_ERRORS, Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { SetBillingFlagHandler } from '../commands/set-billing-flag/set-billing-flag.handler.js';
import { SetBillingRolloutHandler } from '../commands/set-billing-rollout/set-billing-rollout.handler.js';
import {
  BillingFlagDto,
  BillingRolloutDto,
  SetBillingFlagDto,
  SetBillingRolloutDto,
} from './dto/billing-flag.dto.js';

/** The billing flag per account and the global rollout (R-PLAN-5). */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/admin')
export class AdminBillingController {
  constructor(
    private readonly flag: SetBillingFlagHandler,
    private readonly rollout: SetBillingRolloutHandler,
  ) {}

  @Patch('accounts/:id/billing')
  @Idempotent({ required: true })
  @ApiOperation({
    summary: 'Turn billing on or off for one account (admin). Requires Idempotency-Key.',
    description:
      'An account is billed when its flag is on AND its stable bucket is inside the global rollout. Off: full access (every feature of the top plan, basis `billing_disabled`). Audited; the verdict is invalidated and an `entitlements.updated` event sent when the flag changes.',
  })
  @ApiOkResponse({ type: BillingFlagDto })
  @ApiErrors('validation_failed', 'unauthenticated', 'forbidden', 'not_found', ...IDEMPOTENCY_ERRORS)
  setFlag(
    @Param('id', new ParseUUIDPipe()) accountId: string,
    @Body() body: SetBillingFlagDto,
  ): Promise<BillingFlagDto> {
    return this.flag.execute(accountId, body.billingEnabled);
  }

  @Put('billing-rollout')
  @Idempotent({ required: true })
  @ApiOperation({
    summary: 'Set the global rollout percentage of billing, 0-100 (admin). Requires Idempotency-Key.',
    description:
      'Each account has a stable bucket (0-99, a hash of its id): it is inside the rollout when its bucket is below the percentage, so raising it only adds accounts. Audited; every cached verdict is invalidated.',
  })
  @ApiOkResponse({ type: BillingRolloutDto })
  @ApiErrors('validation_failed', 'unauthenticated', 'forbidden', ...IDEMPOTENCY_ERRORS)
  setRollout(@Body() body: SetBillingRolloutDto): Promise<BillingRolloutDto> {
    return this.rollout.execute(body.percent);
  }
}
