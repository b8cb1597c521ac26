import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as Pino } from 'pino';
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
  '*.authorization',
  '*.client_secret',
  '*.clientSecret',
  '*.card',
  '*.email',
  '*.billingEmail',
  '*.billing_email',
];

/**
 * The process's one pino logger: JSON lines, each with the correlation id of the request or job in
 * progress (R-OPS-2, R-API-7), secrets and personal data redacted. Fastify logs requests through it;
 * Nest logs through {@link PinoNestLogger}.
 */
export function createRootLogger(level: string, destination?: pino.DestinationStream): Pino {
  return pino(
    {
      level,
      base: { service: 'billing' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin: () => {
        const ctx = RequestContext.current();
        return ctx ? { correlationId: ctx.correlationId } : {};
      },
      serializers: {
        err: pino.stdSerializers.err,
        req: (req: { id: unknown; method: string; url?: string; ip?: string }) => ({
          id: req.id,
          method: req.method,
          // Query strings may carry personal data; the path is enough to find the route.
          url: (req.url ?? '').split('?')[0],
        }),
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Nest's LoggerService on top of pino (Nest contexts become the `context` field). */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    // Nest passes the context as the last string argument, and for errors the stack before it.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      const { msg, ...fields } = message as Record<string, unknown>;
      this.pino[level]({ context, ...fields }, typeof msg === 'string' ? msg : '');
    } else {
      this.pino[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
