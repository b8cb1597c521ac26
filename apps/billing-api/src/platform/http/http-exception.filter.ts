import { type ArgumentsHost, Catch, type ExceptionFilter, Logger, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { renderError } from './error-response.js';
import { routeTable } from './route-table.js';

const httpErrorLogger = new Logger('HttpError');

/**
 * Sends `exception` in the shape of R-API-3 with the request id, logging server faults with their stack.
 * The global filter below uses it, and so do routes served by Fastify outside Nest's chain (the Stripe
 * webhook intake), so that every error leaves the same way.
 */
export function sendError(
  exception: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger = httpErrorLogger,
): FastifyReply {
  if (exception instanceof NotFoundException && request.routeOptions?.url === undefined) {
    // No route matched: a path served with other methods is a 405 naming them (RFC 9110), not a 404.
    const allowed = routeTable.allowedMethods(request.url);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      void reply.header('allow', allowed.join(', '));
      exception = new ApiError(
        'method_not_allowed',
        `${request.method} is not allowed here; use ${allowed.join(', ')}.`,
      );
    }
  }
  const rendered = renderError(exception, String(request.id));
  if (rendered.internal) {
    logger.error(
      { err: exception, method: request.method, url: request.routeOptions?.url },
      'request failed with an internal error',
    );
  }
  return reply
    .status(rendered.status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(rendered.body);
}

/** The one global filter: every error leaves in the shape of R-API-3, with the request id. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = httpErrorLogger;

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    void sendError(
      exception,
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
      this.logger,
    );
  }
}
