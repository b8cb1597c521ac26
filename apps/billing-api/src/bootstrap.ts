import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { configureHttpApp, createHttpAdapter } from './http-app.js';
import { AppConfig } from './platform/config/app-config.js';
import type { EnvironmentVariables } from './platform/config/environment.js';
import { createRootLogger, PinoNestLogger } from './platform/logging/logger.js';

export type RunningApp =
  | { kind: 'http'; app: NestFastifyApplication; config: AppConfig }
  | { kind: 'worker'; app: INestApplicationContext; config: AppConfig };

/**
 * Starts the service in its role (R-ARCH-4): `api` serves HTTP, `worker` runs queue consumers and
 * schedules, `all` does both in one process (the default for development).
 */
export async function startBillingService(env: EnvironmentVariables): Promise<RunningApp> {
  const role = env.APP_ROLE;
  const logger = createRootLogger(env.LOG_LEVEL);
  const nestLogger = new PinoNestLogger(logger);
  if (role === 'worker') {
    const app = await NestFactory.createApplicationContext(AppModule.forRoot({ role }), {
      logger: nestLogger,
    });
    app.enableShutdownHooks();
    return { kind: 'worker', app, config: app.get(AppConfig) };
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ role }),
    createHttpAdapter(logger, env.TRUST_PROXY),
    {
      logger: nestLogger,
      rawBody: true,
    },
  );
  const config = app.get(AppConfig);
  await configureHttpApp(app, config);
  await app.listen(config.http.port, config.http.host);
  return { kind: 'http', app, config };
}
