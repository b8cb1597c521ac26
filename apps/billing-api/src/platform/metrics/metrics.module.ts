import { Global, Module } from '@nestjs/common';
import { HttpMetrics } from './http-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsRegistry } from './metrics.registry.js';
import { QueueMetrics } from './queue-metrics.js';
import { WorkerMetricsServer } from './worker-metrics-server.js';

/**
 * Prometheus metrics: the registry every module adds its metrics to, `GET /metrics`, HTTP durations and
 * queue depth. Global so that feature modules inject {@link MetricsRegistry} without importing this.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsRegistry, HttpMetrics, QueueMetrics, WorkerMetricsServer],
  exports: [MetricsRegistry, WorkerMetricsServer],
})
export class MetricsModule {}
