import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
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
import { IDEMPOTENCY_ERRORS, Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { ConfirmOwnershipTransferHandler } from '../commands/confirm-ownership-transfer/confirm-ownership-transfer.handler.js';
import { RequestOwnershipTransferHandler } from '../commands/request-ownership-transfer/request-ownership-transfer.handler.js';
import {
  ConfirmOwnershipTransferDto,
  OwnershipTransferDto,
  RequestOwnershipTransferDto,
} from './dto/ownership-transfer.dto.js';

/** Billing ownership transfer (R-SUB-9): the owner names a member, who confirms by the e-mailed link. */
@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1')
export class OwnershipTransferController {
  constructor(
    private readonly request: RequestOwnershipTransferHandler,
    private readonly confirm: ConfirmOwnershipTransferHandler,
  ) {}

  @Post('accounts/:accountId/ownership-transfers')
  @Roles('owner')
  @Idempotent()
  @ApiParam({ name: 'accountId', format: 'uuid', description: 'A UUID (anything else is a 400).' })
  @ApiOperation({
    summary:
      'Name another member as the new billing owner (owner). The member is e-mailed a one-time link, valid 48 hours, to confirm; nothing changes until then. A new request replaces a pending one (its link stops working). Audited.',
    description:
      'The caller must be the owner of the account as its members say (403 `ownership_transfer_not_owner` otherwise); the new owner must be another member (422 `ownership_transfer_invalid_target`). The answer never contains the token.',
  })
  @ApiCreatedResponse({ type: OwnershipTransferDto })
  @ApiErrors(
    'validation_failed',
    'forbidden',
    'not_found',
    'ownership_transfer_not_owner',
    'ownership_transfer_invalid_target',
    'card_data_forbidden',
    ...IDEMPOTENCY_ERRORS,
  )
  requestTransfer(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', new ParseUUIDPipe()) accountId: string,
    @Body() body: RequestOwnershipTransferDto,
  ): Promise<OwnershipTransferDto> {
    assertAccountAccess(principal, accountId);
    return this.request.execute({ accountId, requestedBy: principal.userId, toUserId: body.toUserId });
  }

  @Post('ownership-transfers/confirm')
  @HttpCode(200)
  @Roles('owner', 'member')
  @Idempotent()
  @ApiOperation({
    summary:
      'Confirm a billing ownership transfer with the token of the e-mailed link, signed in as the named member. The roles swap at once (the old owner becomes a member, and is e-mailed). Audited.',
    description:
      "The link is single use (409 `ownership_transfer_used`, also after a newer request replaced it) and expires 48 hours after the request (410 `ownership_transfer_expired`). Another user is 403 `ownership_transfer_wrong_user` and does not use the link up. A token that matches no transfer of the caller's account is 404; 409 `ownership_transfer_stale` when the members changed since the request.",
  })
  @ApiOkResponse({ type: OwnershipTransferDto })
  @ApiErrors(
    'validation_failed',
    'forbidden',
    'not_found',
    'ownership_transfer_used',
    'ownership_transfer_expired',
    'ownership_transfer_wrong_user',
    'ownership_transfer_stale',
    'card_data_forbidden',
    ...IDEMPOTENCY_ERRORS,
  )
  confirmTransfer(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ConfirmOwnershipTransferDto,
  ): Promise<OwnershipTransferDto> {
    return this.confirm.execute({
      token: body.token,
      userId: principal.userId,
      accountId: principal.accountId,
    });
  }
}
