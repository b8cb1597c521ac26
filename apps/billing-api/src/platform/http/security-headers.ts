import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `{ skipRoute: true }`: no security headers on this route (Stripe's webhook: no browser reads it). */
    helmet?: { skipRoute?: boolean };
  }
}

/**
 * Helmet's configuration: the security headers of every response (why this policy: configureHttpApp in
 * http-app.ts).
 */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      upgradeInsecureRequests: null,
    },
  },
};

/** What Helmet does to every response for one configuration: headers set, headers removed. */
export interface SecurityHeaders {
  readonly set: ReadonlyArray<readonly [name: string, value: string]>;
  readonly remove: readonly string[];
}

/**
 * Helmet's headers for `options`, computed once by running Helmet's own middleware against a response
 * that records what it is told. With static options (no directive computed per request, no nonces) the
 * headers are the same for every response; `@fastify/helmet` built Helmet's middleware anew for every
 * request (about 8 % of the api's CPU in bench:entitlements) to set these same values.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): SecurityHeaders {
  assertStatic(options, 'options');
  const set: [string, string][] = [];
  const remove: string[] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      if (typeof value !== 'string') throw new Error(`helmet set ${name} to a non-string value`);
      set.push([name, value]);
    },
    removeHeader(name: string) {
      remove.push(name);
    },
  };
  let failure: unknown;
  helmet(options)({} as never, recorder as never, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure instanceof Error ? failure : new Error('helmet refused the options');
  return { set, remove };
}

/** Refuses options that would make a header differ between requests (a function anywhere in them). */
function assertStatic(value: unknown, path: string): void {
  if (typeof value === 'function') {
    throw new Error(`security headers: ${path} is a function; only static options can be computed once`);
  }
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) assertStatic(inner, `${path}.${key}`);
  }
}

/**
 * Sets the headers on every response, as `@fastify/helmet` did: in an `onRequest` hook, on the Node.js
 * response (so that errors, 404s and responses written to it directly carry them; a value the route
 * sets on the reply wins), except on routes whose config says `helmet: { skipRoute: true }`.
 */
export function registerSecurityHeaders(fastify: FastifyInstance, headers: SecurityHeaders): void {
  const { set, remove } = headers;
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config.helmet?.skipRoute !== true) {
      const raw = reply.raw;
      for (const [name, value] of set) raw.setHeader(name, value);
      for (const name of remove) raw.removeHeader(name);
    }
    done();
  });
}
