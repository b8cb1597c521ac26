import { Body, Controller, Get, Param, ParseUUIDPipe, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiParam } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { assertAccountAccess, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { UpdateAccountSettingsHandler } from '../commands/update-account-settings/update-account-settings.handler.js';
import { AccountQueries } from '../queries/account.queries.js';
import { AccountDto, MemberListDto, UpdateAccountSettingsDto } from './dto/account.dto.js';

@ApiTags('accounts')
@ApiBearerAuth()
@ApiParam({
  name: 'accountId',
  format: 'uuid',
  description: 'A UUID (anything else is a 400 validation_failed).',
})
@Controller('v1/accounts/:accountId')
export class AccountsController {
  constructor(
    private readonly queries: AccountQueries,
    private readonly updateSettings: UpdateAccountSettingsHandler,
  ) {}

  @Get()
  @Roles('owner', 'finance', 'support', 'admin')
  @ApiOperation({
    summary: 'An account and its settings. Owners see only their own account (others are 404).',
  })
  @ApiOkResponse({ type: AccountDto })
  @ApiErrors('forbidden', 'not_found', 'validation_failed')
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', new ParseUUIDPipe()) accountId: string,
  ): Promise<AccountDto> {
    assertAccountAccess(principal, accountId);
    return this.queries.get(accountId);
  }

  @Patch()
  @Roles('owner', 'admin')
  @Idempotent()
  @ApiOperation({
    summary: "Change the account's name, billing email, locale or time zone (owner, admin). Audited.",
  })
  @ApiOkResponse({ type: AccountDto })
  @ApiErrors(
    'forbidden',
    'not_found',
    'validation_failed',
    'card_data_forbidden',
    'idempotency_key_reused',
    'idempotency_key_invalid',
    'idempotency_request_in_progress',
    'idempotency_key_in_use',
  )
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', new ParseUUIDPipe()) accountId: string,
    @Body() body: UpdateAccountSettingsDto,
  ): Promise<AccountDto> {
    assertAccountAccess(principal, accountId);
    return this.updateSettings.execute({ accountId, ...body });
  }

  @Get('members')
  @Roles('owner', 'finance', 'support', 'admin')
  @ApiOperation({ summary: "The account's members and their roles." })
  @ApiOkResponse({ type: MemberListDto })
  @ApiErrors('forbidden', 'not_found', 'validation_failed')
  async members(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', new ParseUUIDPipe()) accountId: string,
  ): Promise<MemberListDto> {
    assertAccountAccess(principal, accountId);
    await this.queries.get(accountId);
    return { data: await this.queries.members(accountId) };
  }
}
