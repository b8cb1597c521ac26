import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../../../platform/auth/auth.decorators.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { IDEMPOTENCY_ERRORS, Idempotent } from '../../../platform/idempotency/idempotent.decorator.js';
import { ResolveFindingHandler } from '../commands/resolve-finding/resolve-finding.handler.js';
import { StartRunHandler } from '../commands/start-run/start-run.handler.js';
import { ReconciliationQueries } from '../queries/reconciliation.queries.js';
import {
  ListFindingsQueryDto,
  ReconciliationFindingDto,
  ReconciliationFindingPageDto,
  ReconciliationRunDetailDto,
  ReconciliationRunDto,
  ReconciliationRunPageDto,
  ResolveFindingDto,
  StartRunDto,
} from './dto/reconciliation.dto.js';
import { PageQueryDto } from '../../../platform/http/pagination.js';

/** Reconciliation with Stripe for operators (R-REC): runs, their findings, and the admin's decisions. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/admin/reconciliation')
export class ReconciliationController {
  constructor(
    private readonly start: StartRunHandler,
    private readonly resolve: ResolveFindingHandler,
    private readonly queries: ReconciliationQueries,
  ) {}

  @Post('runs')
  @HttpCode(202)
  @Idempotent()
  @ApiOperation({
    summary: 'Start a reconciliation run over a window (admin); a worker runs it.',
    description:
      "Compares every Stripe subscription, and the invoices and PaymentIntents Stripe created in [from, to), with the app's mirrors. Safe drifts are repaired, unsafe ones wait for an admin. One run per window: asking again for a window that ran (or runs) answers that run. Poll GET /v1/admin/reconciliation/runs/{id} until `status` is `completed` or `failed`.",
  })
  @ApiAcceptedResponse({
    type: ReconciliationRunDto,
    description: 'The run of the window (new, or the existing one).',
  })
  @ApiErrors(
    'validation_failed',
    'unauthenticated',
    'forbidden',
    'service_unavailable',
    ...IDEMPOTENCY_ERRORS,
  )
  async startRun(@Body() body: StartRunDto): Promise<ReconciliationRunDto> {
    return (await this.start.execute({ from: body.from, to: body.to })).run;
  }

  @Get('runs')
  @ApiOperation({ summary: 'Reconciliation runs, newest first, cursor-paginated (admin).' })
  @ApiOkResponse({ type: ReconciliationRunPageDto })
  @ApiErrors('unauthenticated', 'forbidden', 'validation_failed')
  listRuns(@Query() query: PageQueryDto): Promise<ReconciliationRunPageDto> {
    return this.queries.listRuns({ limit: query.limit ?? 20, cursor: query.cursor });
  }

  @Get('runs/:id')
  @ApiOperation({ summary: 'One run with its counts and its first 100 findings (admin).' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: ReconciliationRunDetailDto })
  @ApiErrors('unauthenticated', 'forbidden', 'not_found', 'validation_failed')
  getRun(@Param('id', new ParseUUIDPipe()) id: string): Promise<ReconciliationRunDetailDto> {
    return this.queries.getRun(id);
  }

  @Get('findings')
  @ApiOperation({
    summary:
      'Findings, newest first, by run and status, cursor-paginated (admin). `status=open` lists what waits.',
  })
  @ApiOkResponse({ type: ReconciliationFindingPageDto })
  @ApiErrors('unauthenticated', 'forbidden', 'validation_failed')
  listFindings(@Query() query: ListFindingsQueryDto): Promise<ReconciliationFindingPageDto> {
    return this.queries.listFindings(
      { runId: query.runId, status: query.status },
      { limit: query.limit ?? 20, cursor: query.cursor },
    );
  }

  @Post('findings/:id/resolve')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({
    summary: "Resolve a waiting finding (admin): apply Stripe's object, or dismiss. Audited with the note.",
    description:
      '`apply_stripe` re-reads the object from Stripe and applies it through the same handlers as webhooks (the subscription machine still decides); 409 `conflict` when Stripe has no such object or it could not be applied. The other waiting findings of the same object in the run are resolved with it. 409 `conflict` when the finding is not waiting (already repaired or resolved).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: ReconciliationFindingDto })
  @ApiErrors(
    'validation_failed',
    'unauthenticated',
    'forbidden',
    'not_found',
    'conflict',
    ...IDEMPOTENCY_ERRORS,
  )
  resolveFinding(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ResolveFindingDto,
  ): Promise<ReconciliationFindingDto> {
    return this.resolve.execute(id, body.action, body.note);
  }
}
