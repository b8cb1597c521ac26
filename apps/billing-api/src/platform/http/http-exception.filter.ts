import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderError } from './error-response.js';

/** The one global filter: every error leaves in the shape of R-API-3, with the request id. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const rendered = renderError(exception, String(request.id));
    if (rendered.internal) {
      this.logger.error(
        { err: exception, method: request.method, url: request.routeOptions?.url },
        'request failed with an internal error',
      );
    }
    void reply
      .status(rendered.status)
      .header('content-type', 'application/json; charset=utf-8')
      .send(rendered.body);
  }
}
