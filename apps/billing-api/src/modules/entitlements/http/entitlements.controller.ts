import { Controller, Get, Headers, HttpStatus, Param, ParseUUIDPipe, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiNotModifiedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { assertAccountAccess, type Principal } from '../../../platform/auth/principal.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { GetVerdictQuery } from '../queries/get-verdict.query.js';
import { EntitlementVerdictDto } from './dto/entitlements.dto.js';

/** True when `If-None-Match` names this ETag (or `*`); weak comparison, as RFC 9110 asks for GET. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

@ApiTags('entitlements')
@ApiBearerAuth()
@Controller('v1/accounts')
export class EntitlementsController {
  constructor(private readonly verdicts: GetVerdictQuery) {}

  @Get(':id/entitlements')
  @Roles('owner', 'member', 'finance', 'support', 'admin')
  @ApiOperation({
    summary: 'What the account may do now: its entitlement verdict (R-SM-4, R-PLAN-4/5, R-CORE-5).',
    description:
      "Tier, features, seat limits, access mode (`full` or `read_only`), banners, the basis and reason, and the next scheduled change. Owners and members of the account, finance/support/admin of any; another account's: 404. " +
      'Cached for 60 s and invalidated when a change that affects it commits; send the `ETag` back as `If-None-Match` for a 304. ' +
      'Fail-safe: when the state is uncertain (the database unreachable, a completed Checkout not mirrored yet) the answer is 200 with `basis: fail_open`, full access and the reason, never a 5xx. ' +
      '`dunningStage` summarizes the open dunning case (past_due or suspended, last and next step), null when none.',
  })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'An ETag of an earlier answer.' })
  @ApiOkResponse({
    type: EntitlementVerdictDto,
    headers: { ETag: { description: 'The verdict version.', schema: { type: 'string' } } },
  })
  @ApiNotModifiedResponse({ description: 'The verdict is still the one of `If-None-Match`.' })
  @ApiErrors('validation_failed', 'unauthenticated', 'forbidden', 'not_found')
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseUUIDPipe()) accountId: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<EntitlementVerdictDto | undefined> {
    assertAccountAccess(principal, accountId);
    const { verdict, etag, cached } = await this.verdicts.execute(accountId);
    void reply.header('etag', etag);
    void reply.header('cache-control', 'private, no-cache');
    void reply.header('x-entitlements-cache', cached ? 'hit' : 'miss');
    if (matches(ifNoneMatch, etag)) {
      void reply.status(HttpStatus.NOT_MODIFIED);
      return undefined;
    }
    return verdict;
  }
}
