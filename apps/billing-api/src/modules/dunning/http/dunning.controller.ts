import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { assertAccountAccess, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { DunningCaseQueries } from '../queries/dunning-case.queries.js';
import { AccountDunningDto } from './dto/dunning-case.dto.js';

@ApiTags('dunning')
@ApiBearerAuth()
@Controller('v1/accounts')
export class DunningController {
  constructor(private readonly queries: DunningCaseQueries) {}

  @Get(':id/dunning')
  @Roles('owner', 'finance', 'support', 'admin')
  @ApiOperation({
    summary:
      "The account's dunning timeline (R-DUN-7): the open case, the steps done and the dates of those to come.",
    description:
      'Owners of the account, finance/support/admin of any; members 403; another account: 404. `case` is null when ' +
      "no invoice is being dunned. Dates are on the case's clock (a Stripe test clock's time under one).",
  })
  @ApiOkResponse({ type: AccountDunningDto })
  @ApiErrors('validation_failed', 'unauthenticated', 'forbidden', 'not_found')
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseUUIDPipe()) accountId: string,
  ): Promise<AccountDunningDto> {
    assertAccountAccess(principal, accountId);
    return { accountId, case: await this.queries.openForAccount(accountId) };
  }
}
