import { describe, expect, it } from '@jest/globals';
import fastifyCors from '@fastify/cors';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { CORS_METHODS, registerCors } from './cors.js';

const EXPOSED = ['x-request-id', 'idempotent-replayed', 'retry-after'];

async function serve(register: (app: FastifyInstance) => Promise<void> | void): Promise<FastifyInstance> {
  const app = Fastify();
  await register(app);
  app.get('/v1/things', async () => ({ ok: true }));
  app.post('/v1/things', async () => ({ created: true }));
  await app.ready();
  return app;
}

const requests: InjectOptions[] = [
  { method: 'GET', url: '/v1/things' },
  { method: 'GET', url: '/v1/things', headers: { origin: 'https://app.example.com' } },
  { method: 'GET', url: '/v1/things', headers: { origin: 'https://evil.example.com' } },
  { method: 'POST', url: '/v1/things', headers: { origin: 'https://admin.example.com' }, payload: {} },
  { method: 'GET', url: '/nowhere', headers: { origin: 'https://app.example.com' } },
  {
    method: 'OPTIONS',
    url: '/v1/things',
    headers: {
      origin: 'https://app.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,idempotency-key',
    },
  },
  {
    method: 'OPTIONS',
    url: '/v1/things',
    headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'DELETE' },
  },
  { method: 'OPTIONS', url: '/v1/things', headers: { origin: 'https://app.example.com' } },
  { method: 'OPTIONS', url: '/v1/things', headers: { 'access-control-request-method': 'GET' } },
  {
    method: 'OPTIONS',
    url: '/anywhere/else',
    headers: { origin: 'https://admin.example.com', 'access-control-request-method': 'PATCH' },
  },
];

describe('CORS decided once per origin', () => {
  it.each([
    ['configured origins', ['https://app.example.com', 'https://admin.example.com']],
    ['no origins (CORS off)', []],
  ])('answers as @fastify/cors with the same options: %s', async (_name, origins) => {
    const ours = await serve((app) =>
      registerCors(app, { origins, credentials: true, exposedHeaders: EXPOSED }),
    );
    const theirs = await serve(async (app) => {
      await app.register(fastifyCors, {
        origin: origins.length > 0 ? origins : false,
        credentials: true,
        exposedHeaders: EXPOSED,
        methods: CORS_METHODS,
      });
    });
    try {
      for (const request of requests) {
        const [a, b] = await Promise.all([ours.inject(request), theirs.inject(request)]);
        const seen = (r: typeof a) => {
          const { date: _date, ...headers } = r.headers;
          return { request, status: r.statusCode, headers, body: r.body };
        };
        expect(seen(a)).toEqual(seen(b));
      }
    } finally {
      await Promise.all([ours.close(), theirs.close()]);
    }
  });

  it('echoes an allowed origin only', async () => {
    const ours = await serve((app) =>
      registerCors(app, { origins: ['https://app.example.com'], credentials: true, exposedHeaders: EXPOSED }),
    );
    try {
      const allowed = await ours.inject(requests[1] as InjectOptions);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(allowed.headers.vary).toBe('Origin');
      const other = await ours.inject(requests[2] as InjectOptions);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await ours.close();
    }
  });

  it('lets a browser send every method the API has across origins', async () => {
    const ours = await serve((app) =>
      registerCors(app, { origins: ['https://app.example.com'], credentials: true, exposedHeaders: EXPOSED }),
    );
    try {
      for (const method of ['PUT', 'PATCH', 'DELETE']) {
        const preflight = await ours.inject({
          method: 'OPTIONS',
          url: '/v1/things',
          headers: { origin: 'https://app.example.com', 'access-control-request-method': method },
        });
        expect(preflight.statusCode).toBe(204);
        expect(String(preflight.headers['access-control-allow-methods']).split(',')).toContain(method);
      }
    } finally {
      await ours.close();
    }
  });
});
