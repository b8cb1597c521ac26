import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../../platform/auth/auth.decorators.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { CreateAccountHandler } from '../commands/create-account/create-account.handler.js';
import { AccountQueries } from '../queries/account.queries.js';
import { ListAccountsQueryDto } from './dto/account-query.dto.js';
import { AccountDto, AccountPageDto, CreateAccountDto } from './dto/account.dto.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/admin/accounts')
export class AdminAccountsController {
  constructor(
    private readonly createAccount: CreateAccountHandler,
    private readonly queries: AccountQueries,
  ) {}

  @Post()
  @Idempotent({ required: true })
  @ApiOperation({ summary: 'Create an account with its billing owner (admin). Requires Idempotency-Key.' })
  @ApiCreatedResponse({ type: AccountDto })
  @ApiErrors(
    'forbidden',
    'validation_failed',
    'card_data_forbidden',
    'idempotency_key_required',
    'idempotency_key_invalid',
    'idempotency_key_reused',
    'idempotency_request_in_progress',
    'idempotency_key_in_use',
  )
  create(@Body() body: CreateAccountDto): Promise<AccountDto> {
    return this.createAccount.execute(body);
  }

  @Get()
  // Finance and support look accounts up too (SPEC section 0: billing status of any account); reading only.
  @Roles('admin', 'finance', 'support')
  @ApiOperation({
    summary: 'Find accounts (admin, finance, support).',
    description:
      'Newest first (ties by id), cursor-paginated. Filters are optional and combine: exact billing email ' +
      '(case-insensitive), exact Stripe customer id, part of the name (case-insensitive, 2 characters or ' +
      'more), created from (inclusive) and to (exclusive).',
  })
  @ApiOkResponse({ type: AccountPageDto })
  @ApiErrors('forbidden', 'validation_failed')
  list(@Query() query: ListAccountsQueryDto): Promise<AccountPageDto> {
    return this.queries.list(query);
  }
}
