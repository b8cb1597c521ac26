import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import { SkipRateLimit } from '../http/rate-limit.guard.js';
import { Readiness } from './readiness.js';

@ApiTags('health')
@Public()
@SkipRateLimit()
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process answers (never looks at a dependency).' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary:
      'Readiness: PostgreSQL and Redis answer (503 naming the failing dependency otherwise); Stripe reachability from a cached probe (503 only with STRIPE_PROBE_REQUIRED).',
  })
  @ApiOkResponse({
    schema: {
      example: {
        status: 'ok',
        info: {
          database: { status: 'up' },
          redis: { status: 'up' },
          stripe: { status: 'up', checkedAt: '2026-12-07T02:00:00.000Z', latencyMs: 41 },
        },
      },
    },
  })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down; the body says which.' })
  async ready(): Promise<unknown> {
    const report = await this.readiness.check();
    if (!report.ok) throw new ServiceUnavailableException(report.body);
    return report.body;
  }
}
