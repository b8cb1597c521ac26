import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../../../platform/auth/auth.decorators.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { BILLING_CALL } from '../../../platform/http/decorators.js';
import { IsBilledQuery } from '../queries/is-billed.query.js';

/**
 * Refuses a `@BillingCall()` route with 409 `billing_disabled` when billing is off for the caller's
 * account (R-PLAN-5: full access and no billing calls), before its handler can ask Stripe anything.
 * An interceptor, not a guard: it runs after every guard, so the principal is known and authorised.
 * Routes of internal roles (no account of their own) and unknown accounts go on to the handler.
 */
@Injectable()
export class BillingCallsInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly billed: IsBilledQuery,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (
      context.getType() !== 'http' ||
      !this.reflector.getAllAndOverride<boolean>(BILLING_CALL, [context.getHandler(), context.getClass()])
    ) {
      return next.handle();
    }
    const accountId = context.switchToHttp().getRequest<AuthenticatedRequest>().principal?.accountId;
    if (accountId && (await this.billed.execute(accountId)) === false) {
      throw new ApiError(
        'billing_disabled',
        'Billing is turned off for this account: it has full access, and nothing is billed or asked of Stripe for it.',
      );
    }
    return next.handle();
  }
}
