import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidTokenError, TokenVerifier } from '../auth/token-verifier.js';
import { ApiError } from '../http/api-error.js';
import { renderError } from '../http/error-response.js';
import { JobQueue } from './job-queue.js';

/** Where Bull Board answers (R-OPS-4). */
export const QUEUE_BOARD_PATH = '/admin/queues';

const CHALLENGE = 'Basic realm="Billing queues", charset="UTF-8"';

/** Reloads the board's page without the user name and password of its URL (see mountQueueBoard). */
export const DROP_URL_CREDENTIALS =
  'if(location.username||location.password)location.replace(location.protocol+"//"+location.host+location.pathname+location.search+location.hash);';

/**
 * The admin JWT of a request to the board: `Authorization: Bearer <jwt>` for tools, or HTTP Basic
 * with the JWT as the password (any user name) so that a browser can open the page: it asks once and
 * sends it with every request of the page; `http://any:<jwt>@host/admin/queues` works too (the browser
 * sends it as Basic). No cookie, and the token never travels in the path or query, where logs keep them.
 */
export function boardToken(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const [scheme, value] = authorization.split(' ', 2);
  if (!value) return null;
  if (scheme?.toLowerCase() === 'bearer') return value.trim() || null;
  if (scheme?.toLowerCase() !== 'basic') return null;
  const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) || null : null;
}

/**
 * Bull Board (the queue admin UI, R-OPS-4) at {@link QUEUE_BOARD_PATH}, behind admin auth: the pages
 * and its API are Fastify routes outside Nest's guards, so a hook of their own checks the token
 * (401 with a Basic challenge without one or with a bad one, 403 for any role but admin). It shows
 * every queue of the registry and can retry, promote or clean jobs, as an operator of the queues may.
 */
export async function mountQueueBoard(app: NestFastifyApplication): Promise<void> {
  const queues = app.get(JobQueue).all();
  const serverAdapter = new BullBoardFastifyAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({ queues: queues.map(({ queue }) => new BullAdapter(queue)), serverAdapter });
  const verifier = app.get(TokenVerifier);
  /** The API's error shape (R-API-3); a 401 also asks the browser for credentials. */
  const refuse = (
    request: FastifyRequest,
    reply: FastifyReply,
    code: 'unauthenticated' | 'forbidden',
    message: string,
  ) => {
    if (code === 'unauthenticated') void reply.header('www-authenticate', CHALLENGE);
    const rendered = renderError(new ApiError(code, message), String(request.id));
    return reply.code(rendered.status).send(rendered.body);
  };
  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const token = boardToken(request.headers.authorization);
      if (!token) {
        return refuse(
          request,
          reply,
          'unauthenticated',
          'The queue board needs an admin token (Bearer, or as the Basic password).',
        );
      }
      try {
        const principal = await verifier.verify(token);
        if (principal.role !== 'admin')
          return refuse(request, reply, 'forbidden', 'The queue board is for admins.');
      } catch (error) {
        if (error instanceof InvalidTokenError)
          return refuse(request, reply, 'unauthenticated', 'The token is not valid.');
        throw error;
      }
    });
    // A browser opened on http://user:<token>@host/admin/queues sends the token, but the board's page then
    // builds its API URLs from its own address, credentials included, and fetch() refuses such URLs: the
    // page stayed on "Loading". The page reloads itself without them first; the browser keeps sending the
    // credentials it already used for this site.
    scope.addHook('onSend', async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const type = reply.getHeader('content-type');
      if (typeof payload !== 'string' || typeof type !== 'string' || !type.startsWith('text/html'))
        return payload;
      return payload.replace('<head>', `<head><script>${DROP_URL_CREDENTIALS}</script>`);
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
  });
}
