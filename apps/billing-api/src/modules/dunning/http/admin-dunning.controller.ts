import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../../platform/auth/auth.decorators.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { DunningCaseQueries } from '../queries/dunning-case.queries.js';
import { DunningCasePageDto, ListDunningCasesQueryDto } from './dto/dunning-case.dto.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/admin/dunning')
export class AdminDunningController {
  constructor(private readonly queries: DunningCaseQueries) {}

  @Get()
  @ApiOperation({
    summary:
      'Open dunning cases by step (admin, R-DUN-7): oldest Day 0 first, cursor-paginated, with counts.',
  })
  @ApiOkResponse({ type: DunningCasePageDto })
  @ApiErrors('validation_failed', 'unauthenticated', 'forbidden')
  list(@Query() query: ListDunningCasesQueryDto): Promise<DunningCasePageDto> {
    return this.queries.listOpen({
      ...(query.step !== undefined ? { step: query.step } : {}),
      limit: query.limit ?? 20,
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    });
  }
}
