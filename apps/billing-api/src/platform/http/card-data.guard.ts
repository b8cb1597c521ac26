import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { findCardNumber } from './card-data.js';
import { SKIP_CARD_DATA_CHECK } from './decorators.js';

/**
 * Rejects any request whose body or query holds a Luhn-valid 13-19 digit run (R-CORE-6) before a
 * handler, a validator or a log line sees it. The message names the field, never the value.
 */
@Injectable()
export class CardDataGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (
      this.reflector.getAllAndOverride<boolean>(SKIP_CARD_DATA_CHECK, [
        context.getHandler(),
        context.getClass(),
      ])
    )
      return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const path = findCardNumber(request.body) ?? findCardNumber(request.query);
    if (path !== null) {
      throw new ApiError(
        'card_data_forbidden',
        'Card numbers must never be sent to this API. Collect cards with Stripe Elements or Checkout and send the payment method id (pm_…).',
        { param: path },
      );
    }
    return true;
  }
}
