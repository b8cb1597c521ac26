import { describe, expect, it } from '@jest/globals';
import fastifyHelmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { HELMET_OPTIONS, registerSecurityHeaders, securityHeaders } from './security-headers.js';

/** Everything but the headers that differ between two servers by nature. */
function comparable(headers: Record<string, unknown>): Record<string, unknown> {
  const { date: _date, ...rest } = headers;
  return rest;
}

async function serve(register: (app: FastifyInstance) => Promise<void> | void): Promise<FastifyInstance> {
  const app = Fastify();
  await register(app);
  app.get('/thing', async () => ({ ok: true }));
  app.post('/hook', { config: { helmet: { skipRoute: true } } }, async () => ({ received: true }));
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  await app.ready();
  return app;
}

describe('security headers computed once', () => {
  it('are the headers @fastify/helmet sets with the same options, on every kind of response', async () => {
    const ours = await serve((app) => registerSecurityHeaders(app, securityHeaders(HELMET_OPTIONS)));
    // The CommonJS and ESM copies of Helmet's option types are the same shape under two names.
    const theirs = await serve(async (app) => {
      await app.register(fastifyHelmet, HELMET_OPTIONS as never);
    });
    try {
      for (const [method, url] of [
        ['GET', '/thing'],
        ['POST', '/hook'],
        ['GET', '/boom'],
        ['GET', '/nowhere'],
        ['DELETE', '/thing'],
      ] as const) {
        const [a, b] = await Promise.all([ours.inject({ method, url }), theirs.inject({ method, url })]);
        expect({ url, status: a.statusCode, headers: comparable(a.headers) }).toEqual({
          url,
          status: b.statusCode,
          headers: comparable(b.headers),
        });
      }
      const plain = await ours.inject({ method: 'GET', url: '/thing' });
      expect(plain.headers['content-security-policy']).toBe(
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self' 'unsafe-inline';script-src-attr 'none';style-src 'self' 'unsafe-inline'",
      );
      const skipped = await ours.inject({ method: 'POST', url: '/hook' });
      expect(skipped.headers['x-content-type-options']).toBeUndefined();
    } finally {
      await Promise.all([ours.close(), theirs.close()]);
    }
  });

  it('refuses options whose headers would differ between requests', () => {
    expect(() =>
      securityHeaders({
        contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-abc'"] } },
      }),
    ).toThrow(/contentSecurityPolicy\.directives\.scriptSrc\.1 is a function/);
  });
});
