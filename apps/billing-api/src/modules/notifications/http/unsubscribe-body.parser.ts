import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { errorCodes, type FastifyInstance } from 'fastify';

/** The public one-click unsubscribe route (RFC 8058). */
export const UNSUBSCRIBE_PATH = '/v1/notifications/unsubscribe';

const MULTIPART = 'multipart/form-data';
const MAX_BODY_BYTES = 8 * 1024;

/**
 * RFC 8058 mail clients POST `List-Unsubscribe=One-Click` as application/x-www-form-urlencoded (Nest's
 * Fastify adapter parses that already) or as multipart/form-data, which Fastify refuses with 415. Its
 * parsers are per instance, not per route, so this one takes multipart only on the unsubscribe path
 * and gives every other route Fastify's own 415, as before. The content is not needed (the token in
 * the query says everything), so it is read, bounded, and dropped.
 */
@Injectable()
export class UnsubscribeBodyParser implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    // Worker processes have no HTTP server.
    const adapter = this.adapterHost.httpAdapter as { getInstance(): unknown } | undefined;
    const fastify = adapter?.getInstance() as FastifyInstance | undefined;
    if (!fastify || typeof fastify.addContentTypeParser !== 'function') return;
    if (fastify.hasContentTypeParser(MULTIPART)) return;
    fastify.addContentTypeParser(
      MULTIPART,
      { parseAs: 'string', bodyLimit: MAX_BODY_BYTES },
      (request, _body, done) => {
        if (request.url.split('?')[0] !== UNSUBSCRIBE_PATH) {
          done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(request.headers['content-type']), undefined);
          return;
        }
        done(null, {});
      },
    );
  }
}
