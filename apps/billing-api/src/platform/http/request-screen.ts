import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { containsCardNumber } from './card-data.js';

/** Deeper than any body of ours (metadata is flat); refused before parsing or fingerprinting recurses. */
export const MAX_JSON_DEPTH = 32;

/**
 * A route whose JSON body is judged elsewhere, byte for byte (the signed Stripe webhook): the screens
 * below leave its body to its own route. Set as Fastify route config: `{ config: { verbatimBody: true } }`.
 */
export interface VerbatimBodyConfig {
  verbatimBody?: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Escapes that decode to U+0000 or to a surrogate: the only way either can reach a parsed string. */
const SUSPICIOUS_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/**
 * The deepest nesting of arrays and objects in a JSON text, stopping once past `limit`: one pass over
 * the characters, skipping strings, so that a body of thousands of `[` is refused before it is parsed.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export type TextProblem = 'nul' | 'surrogate';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What in a string cannot be stored: U+0000 (PostgreSQL text refuses it) or a lone surrogate (not UTF-8). */
export function textProblem(value: string): TextProblem | null {
  if (LONE_SURROGATE.test(value)) return 'surrogate';
  if (value.includes('\u0000')) return 'nul';
  return null;
}

/** The path and problem of the first string (value or key) in a decoded body or query that cannot be stored. */
export function findTextProblem(
  value: unknown,
  path = '',
  depth = 0,
): { path: string; problem: TextProblem } | null {
  if (depth > MAX_JSON_DEPTH) return null;
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { path: path || '(body)', problem } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findTextProblem(value[i], `${path}[${i}]`, depth + 1);
      if (hit) return hit;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const childPath = path ? `${path}.${k}` : k;
      const keyProblem = textProblem(k);
      if (keyProblem)
        return { path: LONE_SURROGATE.test(childPath) ? '(key)' : childPath, problem: keyProblem };
      const hit = findTextProblem(v, childPath, depth + 1);
      if (hit) return hit;
    }
  }
  return null;
}

export function textProblemError(hit: { path: string; problem: TextProblem }): ApiError {
  return hit.problem === 'surrogate'
    ? new ApiError(
        'invalid_encoding',
        `${hit.path} holds a lone UTF-16 surrogate, which is not text (send whole characters, in UTF-8).`,
        { param: hit.path },
      )
    : new ApiError('validation_failed', `${hit.path} must not contain the NUL character (U+0000).`, {
        param: hit.path,
      });
}

function isVerbatim(request: FastifyRequest): boolean {
  return (request.routeOptions?.config as VerbatimBodyConfig | undefined)?.verbatimBody === true;
}

type JsonParser = (
  request: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: unknown) => void,
) => void;

/**
 * The JSON body parser of every route (R-CORE-10): the bytes must be UTF-8 (Fastify's own parser decodes
 * leniently and would store U+FFFD for them), nested at most {@link MAX_JSON_DEPTH} levels, and every
 * string storable (no U+0000, no lone surrogate). The checks are a pass over the text; the tree is only
 * walked when an escape that could produce such a string is present. A verbatim route (the Stripe
 * webhook) gets Fastify's own parse, its raw body judged by its signature.
 */
export function createJsonBodyParser(
  fastify: FastifyInstance,
): (request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => void {
  const parse = fastify.getDefaultJsonParser('error', 'error') as unknown as JsonParser;
  return (request, body, done) => {
    if (isVerbatim(request)) {
      parse(request, body.toString('utf8'), done);
      return;
    }
    let text: string;
    try {
      text = strictUtf8.decode(body);
    } catch {
      done(new ApiError('invalid_encoding', 'The request body is not valid UTF-8.'));
      return;
    }
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(new ApiError('body_too_deep', `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`));
      return;
    }
    parse(request, text, (err, parsed) => {
      if (err) return done(err);
      if (SUSPICIOUS_ESCAPE.test(text)) {
        const hit = findTextProblem(parsed);
        if (hit) return done(textProblemError(hit));
      }
      done(null, parsed);
    });
  };
}

/** Headers that carry credentials or signatures: never logged, and their random bytes are not card data. */
const UNSCREENED_HEADERS = new Set([
  'authorization',
  'cookie',
  'stripe-signature',
  'if-match',
  'if-none-match',
]);

function decodedPath(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * Screens every request before any log line or handler of ours sees it (R-CORE-6): a card number in the
 * path or a header is refused as one in the body is (400 `card_data_forbidden`, naming where, never the
 * value). A regular-expression pass over the path and header values, nothing heavier.
 */
export function screenRequestLine(request: FastifyRequest): ApiError | null {
  const message =
    'Card numbers must never be sent to this API. Collect cards with Stripe Elements or Checkout and send the payment method id (pm_…).';
  if (containsCardNumber(decodedPath(request.url))) {
    return new ApiError('card_data_forbidden', message, { param: '(path)' });
  }
  for (const [name, value] of Object.entries(request.headers)) {
    if (UNSCREENED_HEADERS.has(name) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (containsCardNumber(v)) return new ApiError('card_data_forbidden', message, { param: name });
    }
  }
  return null;
}

/**
 * The query as the handlers get it: an empty value (`cursor=`, `createdFrom=`) is the same as an absent
 * one (R-API-4); a value that cannot be stored (U+0000, invalid UTF-8 read as a lone surrogate) is refused.
 */
export function screenQuery(request: FastifyRequest): ApiError | null {
  const query = request.query as Record<string, unknown> | undefined;
  if (query === null || typeof query !== 'object') return null;
  for (const [key, value] of Object.entries(query)) {
    if (value === '') {
      delete query[key];
      continue;
    }
    if (Array.isArray(value)) {
      const kept = value.filter((v) => v !== '');
      if (kept.length === 0) delete query[key];
      else if (kept.length !== value.length) query[key] = kept;
    }
  }
  const hit = findTextProblem(query);
  return hit ? textProblemError(hit) : null;
}

/** Registers the screens as Fastify hooks, answering in the one error shape through `send`. */
export function registerRequestScreens(
  fastify: FastifyInstance,
  send: (error: ApiError, request: FastifyRequest, reply: FastifyReply) => FastifyReply,
): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const refused = screenRequestLine(request);
    if (refused) {
      send(refused, request, reply);
      return;
    }
    done();
  });
  fastify.addHook('preValidation', (request, reply, done) => {
    const refused = screenQuery(request);
    if (refused) {
      send(refused, request, reply);
      return;
    }
    done();
  });
}
