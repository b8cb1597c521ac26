import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConfig } from '../config/app-config.js';
import { MetricsRegistry } from './metrics.registry.js';

/** A JSON route of the worker's port besides `/metrics` (health checks). */
export type WorkerRoute = () => Promise<{ status: number; body: unknown }>;

/**
 * Worker processes have no HTTP server, yet they observe the processing metrics (lag, dead letters).
 * With METRICS_PORT set, a worker-only process serves `GET /metrics` on that port, and the JSON routes
 * other modules add ({@link route}: `/health`, `/health/ready`).
 */
@Injectable()
export class WorkerMetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: Server | null = null;
  private readonly routes = new Map<string, WorkerRoute>();

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
  ) {}

  /** The bound port (METRICS_PORT=0 picks one), null when this process serves none. */
  port(): number | null {
    return this.server ? (this.server.address() as AddressInfo).port : null;
  }

  /** Answers `GET path` with the route's JSON (added before the application starts). */
  route(path: string, handler: WorkerRoute): void {
    this.routes.set(path, handler);
  }

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.metrics.workerPort;
    if (this.config.runsHttp || port === null) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const route = req.method === 'GET' ? this.routes.get(path) : undefined;
      if (route) {
        route().then(
          ({ status, body }) =>
            res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
          () => res.writeHead(500).end(),
        );
        return;
      }
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.metrics.render().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.http.host, () => resolve());
    });
    this.server = server;
    // The port bound: METRICS_PORT=0 takes any free one (tests), named here.
    this.logger.log(`worker metrics on port ${(server.address() as AddressInfo).port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
