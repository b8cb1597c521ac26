import type { FastifyInstance } from 'fastify';

export interface CorsOptions {
  /** The origins allowed to read responses; none: CORS is off (no header, preflights answered 404). */
  origins: readonly string[];
  credentials: boolean;
  exposedHeaders: readonly string[];
}

type Header = readonly [name: string, value: string];

/**
 * The methods a preflight allows: every method the API has (PUT seats, PATCH settings, DELETE members
 * among them). `@fastify/cors`'s default, `GET,HEAD,POST`, which this module first answered as it did,
 * made browsers refuse cross-origin PUT, PATCH and DELETE.
 */
export const CORS_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE';

/**
 * CORS for the origins of the configuration (R-API-6), decided once per origin: the headers of an
 * allowed origin and those of every other request are built at start-up, so a request costs one `Map`
 * lookup. Answers as `@fastify/cors` 11 does with `app.enableCors({ origin: [...], credentials,
 * exposedHeaders, methods: CORS_METHODS })` (test/int/cors.int-spec.ts compares the two on the same requests); that plugin
 * merged and resolved its options on every request (about 4 % of the api's CPU in bench:entitlements).
 * - every response: `Vary: Origin`, `Access-Control-Allow-Credentials` and `-Expose-Headers`, and
 *   `Access-Control-Allow-Origin` echoing the request's `Origin` when it is allowed;
 * - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered 204 in the
 *   request hook, before authentication, with the API's methods ({@link CORS_METHODS}) and the
 *   requested headers; an `OPTIONS` without them is refused 400 (strict preflight).
 * The headers go on the Node.js response, as Nest's adapter copied the plugin's there: a response ended
 * elsewhere (an error, a 404) carries them too, and a value the route sets on the reply wins.
 */
export function registerCors(fastify: FastifyInstance, options: CorsOptions): void {
  const enabled = options.origins.length > 0;
  fastify.decorateRequest('corsPreflight', false);
  const common: Header[] = [['vary', 'Origin']];
  if (options.credentials) common.push(['access-control-allow-credentials', 'true']);
  if (options.exposedHeaders.length > 0) {
    common.push(['access-control-expose-headers', options.exposedHeaders.join(', ')]);
  }
  const byOrigin = new Map<string, readonly Header[]>(
    options.origins.map((origin) => [origin, [['access-control-allow-origin', origin], ...common]]),
  );

  if (enabled) {
    fastify.addHook('onRequest', (request, reply, done) => {
      const origin = request.headers.origin;
      const headers = (origin !== undefined && byOrigin.get(origin)) || common;
      const raw = reply.raw;
      for (const [name, value] of headers) raw.setHeader(name, value);
      if (request.raw.method !== 'OPTIONS') return done();
      request.corsPreflight = true;
      if (!origin || !request.headers['access-control-request-method']) {
        void reply.code(400).type('text/plain').send('Invalid Preflight Request');
        return;
      }
      raw.setHeader('access-control-allow-methods', CORS_METHODS);
      raw.setHeader('vary', 'Origin, Access-Control-Request-Headers');
      const requested = request.headers['access-control-request-headers'];
      if (requested !== undefined) raw.setHeader('access-control-allow-headers', requested);
      void reply.code(204).header('content-length', '0').send();
    });
  }
  // Lets Fastify route a preflight to any path (the hook above answers it); without CORS, 404.
  fastify.options('*', (request, reply) => {
    if (!request.corsPreflight) return reply.callNotFound();
    return reply.send();
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the CORS hook on a preflight it answered. */
    corsPreflight: boolean;
  }
}
