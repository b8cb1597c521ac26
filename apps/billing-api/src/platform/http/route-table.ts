import type { FastifyInstance } from 'fastify';

interface KnownRoute {
  pattern: RegExp;
  method: string;
}

/**
 * The routes the HTTP server serves, so that a known path asked with another method is answered 405 with
 * an `Allow` header (RFC 9110 §15.5.6) rather than 404. Filled by Fastify's `onRoute` hook.
 */
export class RouteTable {
  private readonly routes: KnownRoute[] = [];
  private readonly seen = new Set<string>();

  /** Collects every route registered on `fastify` from now on. */
  watch(fastify: FastifyInstance): void {
    fastify.addHook('onRoute', (route) => {
      if (route.url.includes('*')) return; // catch-alls (CORS preflight, static assets) answer every path
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const pattern = new RegExp(
        `^${route.url
          .split('/')
          .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('/')}$`,
      );
      for (const method of methods) {
        const key = `${method.toUpperCase()} ${route.url}`;
        if (this.seen.has(key)) continue; // several apps in one process (tests) serve the same routes
        this.seen.add(key);
        this.routes.push({ pattern, method: method.toUpperCase() });
      }
    });
  }

  /** The methods a path is served with, sorted; empty when no route has this path. */
  allowedMethods(url: string): string[] {
    const path = url.split('?', 1)[0] ?? '';
    const methods = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) methods.add(route.method);
    return [...methods].sort();
  }
}

/** The process's table (every app of a process serves the same routes). */
export const routeTable = new RouteTable();
