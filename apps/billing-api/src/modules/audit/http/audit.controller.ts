import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiParam } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { assertAccountAccess, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { PageQueryDto } from '../../../platform/http/pagination.js';
import { AuditFacade } from '../audit.facade.js';
import { AuditPageDto } from './dto/audit-entry.dto.js';

@ApiTags('audit')
@ApiBearerAuth()
@ApiParam({
  name: 'accountId',
  format: 'uuid',
  description: 'A UUID (anything else is a 400 validation_failed).',
})
@Controller('v1/accounts/:accountId/audit-log')
export class AuditController {
  constructor(private readonly audit: AuditFacade) {}

  @Get()
  @Roles('owner', 'finance', 'support', 'admin')
  @ApiOperation({ summary: "An account's audit log, newest first (owner, finance, support, admin)." })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiErrors('forbidden', 'not_found', 'validation_failed')
  list(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', new ParseUUIDPipe()) accountId: string,
    @Query() query: PageQueryDto,
  ): Promise<AuditPageDto> {
    assertAccountAccess(principal, accountId);
    return this.audit.listForAccount(accountId, {
      limit: query.limit ?? 20,
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
  }
}
