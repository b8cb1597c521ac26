import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/auth.decorators.js';
import { ApiError, ReplayedErrorResponse } from '../http/api-error.js';
import { renderError } from '../http/error-response.js';
import { requestFingerprint } from './canonical-json.js';
import { IDEMPOTENT, type IdempotentOptions } from './idempotent.decorator.js';
import { IdempotencyStore, type KeyRef } from './idempotency.store.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;

/** Which outcomes are remembered: successes and the caller's own mistakes, not transient faults. */
function isStorable(status: number): boolean {
  return status < 500 && status !== 409 && status !== 429 && status !== 401;
}

/**
 * R-API-5 for every mutating route: same key + same body replays the first response; same key + other
 * body is 409 `idempotency_key_reused`; concurrent duplicates execute once (the others wait for the
 * first and replay it).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly store: IdempotencyStore,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!MUTATING.has(request.method)) return next.handle();
    const options = this.reflector.get<IdempotentOptions | undefined>(IDEMPOTENT, context.getHandler());
    const header = request.headers['idempotency-key'];
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined || key === '') {
      if (options?.required) {
        throw new ApiError('idempotency_key_required', 'This request must carry an Idempotency-Key header.', {
          param: 'Idempotency-Key',
        });
      }
      return next.handle();
    }
    if (!KEY_FORMAT.test(key)) {
      throw new ApiError(
        'idempotency_key_invalid',
        'Idempotency-Key must be 1-255 printable ASCII characters.',
        {
          param: 'Idempotency-Key',
        },
      );
    }
    return from(this.run(context, next, request, key));
  }

  private async run(
    context: ExecutionContext,
    next: CallHandler,
    request: AuthenticatedRequest,
    key: string,
  ): Promise<unknown> {
    const principal = request.principal;
    const ref: KeyRef = {
      scope: principal ? (principal.accountId ?? `user:${principal.userId}`) : 'public',
      key,
    };
    const path = request.url;
    const hash = requestFingerprint(request.method, path, request.body ?? null);
    const outcome = await this.store.begin(ref, { method: request.method, path, hash });
    const reply = context.switchToHttp().getResponse<FastifyReply>();

    if (outcome.kind === 'mismatch') {
      throw new ApiError(
        'idempotency_key_reused',
        'This Idempotency-Key was already used with a different request; use a new key for a new operation.',
        { param: 'Idempotency-Key' },
      );
    }
    if (outcome.kind === 'replay') {
      void reply.header('idempotent-replayed', 'true');
      if (outcome.status >= 400) throw new ReplayedErrorResponse(outcome.status, outcome.body);
      void reply.status(outcome.status);
      return outcome.body;
    }

    let result: unknown;
    try {
      result = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      const rendered = renderError(error, String(request.id));
      if (isStorable(rendered.status)) await this.store.complete(ref, rendered.status, rendered.body);
      else await this.store.release(ref);
      throw error;
    }
    // A status the handler set on the reply itself (e.g. 202 for an outcome still unknown) wins; Fastify's
    // untouched default is 200, after which Nest applies @HttpCode or its per-method default.
    const explicit = reply.statusCode !== 200 ? reply.statusCode : undefined;
    const status =
      explicit ??
      this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? 201 : 200);
    // Stored as the client will see it: plain JSON.
    const body: unknown = result === undefined ? null : JSON.parse(JSON.stringify(result));
    await this.store.complete(ref, status, body);
    return body;
  }
}
