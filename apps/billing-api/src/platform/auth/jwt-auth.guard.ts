import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RequestContext } from '../context/request-context.js';
import { ApiError } from '../http/api-error.js';
import { type AuthenticatedRequest, IS_PUBLIC } from './auth.decorators.js';
import { InvalidTokenError, TokenVerifier } from './token-verifier.js';

/** Global guard: a valid bearer token on every non-public route (R-API-2). */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new ApiError('unauthenticated', 'A bearer token is required.');
    try {
      request.principal = await this.verifier.verify(match[1]);
    } catch (e) {
      if (e instanceof InvalidTokenError)
        throw new ApiError('unauthenticated', 'The bearer token is invalid or expired.');
      throw e;
    }
    RequestContext.setActor({ type: 'user', id: request.principal.userId });
    return true;
  }
}
