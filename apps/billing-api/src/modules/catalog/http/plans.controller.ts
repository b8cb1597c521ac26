import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../../platform/auth/auth.decorators.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { PlansQueries } from '../queries/plans.queries.js';
import { PlanListDto } from './dto/plan.dto.js';
import { toPlanListDto } from './dto/plan.mapper.js';

@ApiTags('plans')
@ApiBearerAuth()
@Controller('v1/plans')
export class PlansController {
  constructor(private readonly queries: PlansQueries) {}

  @Get()
  @Roles('owner', 'member', 'finance', 'support', 'admin')
  @ApiOperation({
    summary:
      'The plan catalogue (R-PLAN-1): plans by tier with their monthly and yearly prices, included seats, ' +
      'add-on seat prices and features. Any authenticated role.',
  })
  @ApiOkResponse({ type: PlanListDto })
  // Every role may read it: only the common errors (unauthenticated, rate_limited, internal_error).
  @ApiErrors()
  list(): PlanListDto {
    return toPlanListDto(this.queries.plans());
  }
}
