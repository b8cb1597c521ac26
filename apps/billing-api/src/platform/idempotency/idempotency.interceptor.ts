import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/auth.decorators.js';
import { ApiError, ReplayedErrorResponse } from '../http/api-error.js';
import { renderError } from '../http/error-response.js';
import { requestFingerprint } from './canonical-json.js';
import { IDEMPOTENT, type IdempotentOptions } from './idempotent.decorator.js';
import { IdempotencyClaims } from './idempotency-claim.js';
import type { IdempotentOutcome } from './idempotent-outcome.js';
import { IdempotencyStore, type KeyRef } from './idempotency.store.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;

/**
 * Whether a failed request executed (its outcome is kept) or was refused before executing (its key is
 * forgotten, so the caller may fix the request and retry with the same key, as Stripe allows). By the
 * house rule a 4xx changes nothing (validation, not found, a business refusal before any write): refused
 * before executing. A 402 is a card's answer to a charge that was attempted (a decline): executed, as is
 * any error its thrower marks `executed`. A 5xx is neither: see `IdempotencyStore.abandon`.
 */
function executed(error: unknown, status: number): boolean {
  if (status === 402) return true;
  return error instanceof ApiError && error.options.executed === true;
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
    private readonly moduleRef: ModuleRef,
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
    return from(this.run(context, next, request, key, options));
  }

  private async run(
    context: ExecutionContext,
    next: CallHandler,
    request: AuthenticatedRequest,
    key: string,
    options: IdempotentOptions | undefined,
  ): Promise<unknown> {
    const principal = request.principal;
    const ref: KeyRef = {
      scope: principal ? (principal.accountId ?? `user:${principal.userId}`) : 'public',
      key,
    };
    const path = request.url;
    const hash = requestFingerprint(request.method, path, request.body ?? null);
    const resolver = options?.outcome
      ? this.moduleRef.get<IdempotentOutcome>(options.outcome, { strict: false })
      : undefined;
    const outcome = await this.store.begin(ref, {
      method: request.method,
      path,
      hash,
      resolvable: resolver !== undefined,
    });
    const reply = context.switchToHttp().getResponse<FastifyReply>();

    switch (outcome.kind) {
      case 'mismatch':
        throw new ApiError(
          'idempotency_key_reused',
          'This Idempotency-Key was already used with a different request; use a new key for a new operation.',
          { param: 'Idempotency-Key' },
        );
      case 'in_use':
        throw keyInUse(false);
      case 'replay':
        void reply.header('idempotent-replayed', 'true');
        if (outcome.status >= 400) throw new ReplayedErrorResponse(outcome.status, outcome.body);
        void reply.status(outcome.status);
        return outcome.body;
      case 'resolve':
        return this.resolve(ref, outcome.resourceId, resolver, request, reply);
      case 'execute':
        break;
    }

    const lockedAt = outcome.lockedAt;
    let result: unknown;
    try {
      result = await IdempotencyClaims.run({ ...ref, lockedAt }, () =>
        lastValueFrom(next.handle(), { defaultValue: undefined }),
      );
    } catch (error) {
      const rendered = renderError(error, String(request.id));
      const done = executed(error, rendered.status);
      try {
        if (done) await this.store.complete(ref, rendered.status, rendered.body);
        else if (rendered.status < 500) await this.store.release(ref, lockedAt);
        else await this.store.abandon(ref, lockedAt, { forgetUnlinked: true });
      } catch {
        // The key could not be updated (the database is failing too): the request's own error is the
        // answer; a retry is answered from a linked key's resource, never runs an executed one again.
        await this.store.abandon(ref, lockedAt, { forgetUnlinked: !done }).catch(() => undefined);
      }
      throw error;
    }
    // A status the handler set on the reply itself (e.g. 202 for an outcome still unknown) wins; Fastify's
    // untouched default is 200, after which Nest applies @HttpCode or its per-method default.
    const explicit = reply.statusCode !== 200 ? reply.statusCode : undefined;
    const status =
      explicit ??
      this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? 201 : 200);
    // Stored as the client will see it: plain JSON (made storable when it must be).
    const body: unknown = result === undefined ? null : JSON.parse(JSON.stringify(result));
    try {
      return await this.store.complete(ref, status, body);
    } catch (error) {
      // The answer could not be stored, and the request executed: a linked key is answered from its
      // resource by the next retry; an unlinked one is never run again (409 idempotency_key_in_use).
      await this.store.abandon(ref, lockedAt, { forgetUnlinked: false }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * The answer for a key whose request wrote its resource and then lost its answer: the route's outcome
   * resolver tells it from the resource (stored, then sent as a replay); 409 `idempotency_key_in_use`
   * while the outcome is not known yet. The operation never runs again.
   */
  private async resolve(
    ref: KeyRef,
    resourceId: string,
    resolver: IdempotentOutcome | undefined,
    request: AuthenticatedRequest,
    reply: FastifyReply,
  ): Promise<unknown> {
    if (!resolver) throw keyInUse(false);
    let resolved: { status: number; body: unknown } | null;
    try {
      resolved = await resolver.resolve(resourceId);
    } catch (error) {
      const rendered = renderError(error, String(request.id));
      if (!executed(error, rendered.status)) throw error;
      const body = await this.store.complete(ref, rendered.status, rendered.body);
      void reply.header('idempotent-replayed', 'true');
      throw new ReplayedErrorResponse(rendered.status, body);
    }
    if (!resolved) throw keyInUse(true);
    const body = await this.store.complete(ref, resolved.status, JSON.parse(JSON.stringify(resolved.body)));
    void reply.header('idempotent-replayed', 'true');
    void reply.status(resolved.status);
    return body;
  }
}

/** 409: the key's first request did not finish; `pending` when its outcome will be known later. */
const keyInUse = (pending: boolean): ApiError =>
  new ApiError(
    'idempotency_key_in_use',
    pending
      ? 'The first request with this Idempotency-Key did not finish and its outcome is not known yet; retry later with the same key to get it.'
      : 'The first request with this Idempotency-Key did not finish and may have taken effect; it is not run again. Check its effect, and use a new key for a new attempt.',
    { param: 'Idempotency-Key' },
  );
