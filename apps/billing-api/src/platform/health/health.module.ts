import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { Readiness } from './readiness.js';
import { RedisHealthIndicator } from './redis.health.js';
import { StripeProbe } from './stripe.probe.js';
import { WorkerHealthRoutes } from './worker-health-routes.js';

/**
 * `/health` (liveness) and `/health/ready` (dependencies, Stripe from a cached probe) through
 * @nestjs/terminus (R-OPS-1), on the api's HTTP server and on a worker's metrics port.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'json' })],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, StripeProbe, Readiness, WorkerHealthRoutes],
})
export class HealthModule {}
