import 'reflect-metadata';
import type { Provider } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { SignJWT } from 'jose';
import { DataSource } from 'typeorm';
import { AppModule } from '../../apps/billing-api/src/app.module.js';
import { configureHttpApp, createHttpAdapter } from '../../apps/billing-api/src/http-app.js';
import { Clock, ManualClock } from '../../apps/billing-api/src/platform/clock/clock.js';
import { AppConfig } from '../../apps/billing-api/src/platform/config/app-config.js';
import { createRootLogger, PinoNestLogger } from '../../apps/billing-api/src/platform/logging/logger.js';
import type { AppRole } from '../../apps/billing-api/src/platform/config/environment.js';
import type { Role } from '../../apps/billing-api/src/platform/auth/principal.js';
import { ensureTestDatabase, TEST_JWT_SECRET, testEnv } from './test-env.js';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  clock: ManualClock;
  db: DataSource;
  close(): Promise<void>;
}

export interface TestAppOptions {
  role?: AppRole;
  env?: Record<string, string>;
  clock?: ManualClock;
  /** Extra providers for a test (e.g. a second job handler). */
  providers?: Provider[];
  /** Extra changes to the module before it compiles. */
  customize?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** The address to listen on (default 127.0.0.1; 0.0.0.0 to be reached on the machine's LAN address). */
  host?: string;
}

/** Boots the real application (real PostgreSQL, Redis, HTTP on a random port) with a controllable clock. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const clock = options.clock ?? new ManualClock(new Date());
  await ensureTestDatabase();
  const env = testEnv(options.env);
  let builder = Test.createTestingModule({
    imports: [AppModule.forRoot({ role: options.role ?? 'all', env })],
    providers: options.providers ?? [],
  })
    .overrideProvider(Clock)
    .useValue(clock);
  if (options.customize) builder = options.customize(builder);
  const logger = createRootLogger(env.LOG_LEVEL ?? 'silent');
  const moduleRef = await builder.setLogger(new PinoNestLogger(logger)).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(logger), {
    rawBody: true,
  });
  try {
    await configureHttpApp(app, app.get(AppConfig));
    await app.listen(0, options.host ?? '127.0.0.1');
  } catch (e) {
    await app.close().catch(() => undefined);
    throw e;
  }
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
  return { app, url, clock, db: app.get(DataSource), close: () => app.close() };
}

/** A bearer token as the identity provider would issue it (HS256, claims sub/account_id/role). */
export async function tokenFor(
  claims: { sub: string; role: Role; accountId?: string | null },
  secret = TEST_JWT_SECRET,
): Promise<string> {
  return new SignJWT({ role: claims.role, ...(claims.accountId ? { account_id: claims.accountId } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small real-HTTP client for tests. */
export async function http<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: body as T };
}
