import { Injectable, type OnModuleInit } from '@nestjs/common';
import { WorkerMetricsServer } from '../metrics/worker-metrics-server.js';
import { Readiness } from './readiness.js';

/**
 * A worker-only process has no HTTP API: its metrics port (METRICS_PORT) also answers `GET /health`
 * (the process answers) and `GET /health/ready` (the same checks as the api's, 503 when one fails),
 * for the orchestrator's probes.
 */
@Injectable()
export class WorkerHealthRoutes implements OnModuleInit {
  constructor(
    private readonly server: WorkerMetricsServer,
    private readonly readiness: Readiness,
  ) {}

  onModuleInit(): void {
    this.server.route('/health', () => Promise.resolve({ status: 200, body: { status: 'ok' } }));
    this.server.route('/health/ready', async () => {
      const report = await this.readiness.check();
      return { status: report.ok ? 200 : 503, body: report.body };
    });
  }
}
