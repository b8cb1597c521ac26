import type { IncomingHttpHeaders } from 'node:http';
import type { Account } from '../core/state.js';
import type { FormParams } from './form.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** A `/v1` API request after authentication and decoding. */
export interface ApiRequest {
  method: string;
  path: string;
  /** Path parameters (`:id`). */
  params: Record<string, string>;
  /** Decoded form body (POST). */
  body: FormParams;
  /** Decoded query string (GET/DELETE parameters, as the SDK sends them). */
  query: FormParams;
  /** The account the secret key selects. */
  account: Account;
  idempotencyKey?: string;
  headers: IncomingHttpHeaders;
  requestId: string;
  /** `expand[]` from body or query; the server applies it to the handler's result. */
  expand: string[];
}

/** A request to an emulator page or admin endpoint (`/_emulator/...`): no account, no auth. */
export interface PageRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  body: FormParams;
  query: FormParams;
  headers: IncomingHttpHeaders;
  requestId: string;
  rawBody: string;
}

/** An explicit response: status, headers, and either a JSON value or a raw string body. */
export class HttpResponse {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    /** When true `body` is a string sent as-is (HTML, PDF text, redirects). */
    readonly raw = false,
  ) {}
}

/** A JSON response with another status than 200. */
export function respond(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return new HttpResponse(status, body, headers);
}

export function html(body: string, status = 200): HttpResponse {
  return new HttpResponse(status, body, { 'content-type': 'text/html; charset=utf-8' }, true);
}

export function redirect(location: string, status = 303): HttpResponse {
  return new HttpResponse(status, '', { location }, true);
}

export type Handler<Req> = (req: Req) => unknown;

interface Route<Req> {
  segments: string[];
  handler: Handler<Req>;
}

export interface RouteMatch<Req> {
  handler: Handler<Req>;
  params: Record<string, string>;
}

/**
 * A tiny router: `router.add('GET', '/v1/customers/:id', handler)`. Static paths are looked up in a
 * Map; parameterised ones are matched segment by segment (static segments win over parameters).
 */
export class Router<Req = ApiRequest> {
  private readonly exact = new Map<string, Handler<Req>>();
  private readonly dynamic = new Map<string, Route<Req>[]>();

  add(method: HttpMethod, pattern: string, handler: Handler<Req>): this {
    const m = method.toUpperCase();
    if (!pattern.includes(':')) {
      this.exact.set(`${m} ${pattern}`, handler);
      return this;
    }
    const list = this.dynamic.get(m) ?? [];
    list.push({ segments: pattern.split('/'), handler });
    // Routes with more static segments first, so `/v1/customers/search` beats `/v1/customers/:id`.
    list.sort((a, b) => staticCount(b.segments) - staticCount(a.segments));
    this.dynamic.set(m, list);
    return this;
  }

  get(pattern: string, handler: Handler<Req>): this {
    return this.add('GET', pattern, handler);
  }

  post(pattern: string, handler: Handler<Req>): this {
    return this.add('POST', pattern, handler);
  }

  delete(pattern: string, handler: Handler<Req>): this {
    return this.add('DELETE', pattern, handler);
  }

  match(method: string, path: string): RouteMatch<Req> | undefined {
    const exact = this.exact.get(`${method} ${path}`);
    if (exact) return { handler: exact, params: {} };
    const routes = this.dynamic.get(method);
    if (!routes) return undefined;
    const parts = path.split('/');
    outer: for (const route of routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const seg = route.segments[i] as string;
        const part = parts[i] as string;
        if (seg.startsWith(':')) {
          if (part === '') continue outer;
          params[seg.slice(1)] = safeDecode(part);
        } else if (seg !== part) {
          continue outer;
        }
      }
      return { handler: route.handler, params };
    }
    return undefined;
  }

  /** True when the path exists for some other method (405-ish; Stripe answers 404 anyway). */
  hasPath(path: string): boolean {
    for (const m of ['GET', 'POST', 'DELETE']) if (this.match(m, path)) return true;
    return false;
  }
}

function staticCount(segments: string[]): number {
  return segments.filter((s) => !s.startsWith(':')).length;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
