import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '../http/api-error.js';
import { type AuthenticatedRequest, REQUIRED_ROLES } from './auth.decorators.js';
import type { Role } from './principal.js';

/** Global guard after authentication and rate limiting: the route's `@Roles(...)`, when it names any. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles) return true;
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal || !roles.includes(principal.role)) {
      throw new ApiError('forbidden', `This action requires one of the roles: ${roles.join(', ')}.`);
    }
    return true;
  }
}
