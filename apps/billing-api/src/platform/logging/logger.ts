import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as Pino } from 'pino';
import { RequestContext } from '../context/request-context.js';
import { redactCardNumbers } from '../http/card-data.js';

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
 * Fields of database errors that carry row values or statement parameters (PostgreSQL's `detail`,
 * "Failing row contains (…, billing@…)"; TypeORM's `parameters` and `query`; the driver error, which
 * holds both again): never logged (R-CORE-9). The SQLSTATE, table, column and constraint remain.
 */
const VALUE_BEARING_ERROR_FIELDS = [
  'detail',
  'parameters',
  'query',
  'driverError',
  'where',
  'hint',
  'internalQuery',
];

/** PostgreSQL quotes the offending value at the end of some messages (`invalid input syntax for type uuid: "…"`). */
function redactQuotedValues(text: string): string {
  return text.replace(/(: )"(?:[^"\\]|\\.)*"/g, '$1"[redacted]"');
}

function sanitizeError(serialized: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (VALUE_BEARING_ERROR_FIELDS.includes(key)) {
      if (value !== undefined) out[key] = '[redacted]';
    } else if (typeof value === 'string' && (key === 'message' || key === 'stack')) {
      out[key] = redactCardNumbers(redactQuotedValues(value));
    } else if (key === 'cause' && depth < 5 && value !== null && typeof value === 'object') {
      out[key] = sanitizeError(value as Record<string, unknown>, depth + 1);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** pino's error serializer, without the values a database error carries (see above). */
export function serializeError(err: unknown): unknown {
  if (err === null || typeof err !== 'object') return err;
  return sanitizeError(pino.stdSerializers.err(err as Error));
}

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
        err: serializeError,
        error: serializeError,
        req: (req: { id: unknown; method: string; url?: string; ip?: string }) => ({
          id: req.id,
          method: req.method,
          // Query strings may carry personal data; the path is enough to find the route. A card number
          // in the path is refused (request-screen.ts), but this line is written before that check.
          url: redactCardNumbers((req.url ?? '').split('?')[0] ?? ''),
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
