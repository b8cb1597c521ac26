import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config.js';
import { RequestContext } from '../context/request-context.js';

/** Headers and fields that must never reach a log line (R-CORE-9, R-OPS-2). */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["stripe-signature"]',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.secretKey',
  '*.apiKey',
  '*.token',
  '*.client_secret',
  '*.clientSecret',
  '*.card',
  '*.email',
  '*.billingEmail',
  '*.billing_email',
];

/** Structured JSON logs through pino, each line carrying the correlation id (R-OPS-2, R-API-7). */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          genReqId: (req) => String((req as { id?: unknown }).id ?? RequestContext.correlationId()),
          customProps: () => ({ correlationId: RequestContext.correlationId() }),
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          serializers: {
            req: (req: { id: unknown; method: string; url?: string }) => ({
              id: req.id,
              method: req.method,
              // Query strings may carry personal data; the path is enough to find the route.
              url: (req.url ?? '').split('?')[0],
            }),
          },
          autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
          mixin: () => ({ correlationId: RequestContext.correlationId() }),
        },
      }),
    }),
  ],
})
export class LoggingModule {}
