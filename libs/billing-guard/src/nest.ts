import {
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Module,
  SetMetadata,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { BillingGuard, type BillingGuardOptions } from './billing-guard.js';
import { type Decision, refusalBody } from './decide.js';

const FEATURES = 'billing-guard:features';
const ALLOW_READ_ONLY = 'billing-guard:allow-read-only';

/** The route needs these catalogue features (all of them): 403 `feature_not_entitled` otherwise. */
export const RequiresFeature = (...features: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(FEATURES, features);

/** A mutating route a read-only (suspended) account may still call: an export, a download by POST. */
export const AllowWhenReadOnly = (): MethodDecorator & ClassDecorator => SetMetadata(ALLOW_READ_ONLY, true);

/**
 * The account a request acts for (from your session, token or path); null: nothing to check. It gets
 * the platform's request (Fastify's or Express's), typed as you declare it.
 */
type AccountId = string | null | undefined;
export type AccountIdOf = (request: never) => AccountId | Promise<AccountId>;

/** The injection tokens: the `BillingGuard` instance and your `AccountIdOf`. */
export const BILLING_GUARD = Symbol('BILLING_GUARD');
export const ACCOUNT_ID_OF = Symbol('ACCOUNT_ID_OF');

/** Where the guard leaves its decision on the request, for handlers and logs. */
export const DECISION = 'billingDecision';

/**
 * Enforces the verdict on every route of the app: a mutating request (POST/PUT/PATCH/DELETE) of a
 * read-only account is refused with 403 `account_suspended` unless the route is `@AllowWhenReadOnly()`;
 * a `@RequiresFeature()` route refuses an account without the feature. Fail-open: when the billing
 * service cannot answer, the request passes (the decision on `request.billingDecision` says why).
 */
@Injectable()
export class EntitlementsGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(BILLING_GUARD) private readonly billing: BillingGuard,
    @Inject(ACCOUNT_ID_OF) private readonly accountIdOf: AccountIdOf,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<{ method: string; [DECISION]?: Decision }>();
    const accountIdOf = this.accountIdOf as (request: unknown) => AccountId | Promise<AccountId>;
    const decision = await this.billing.check(await accountIdOf(request), {
      method: request.method,
      features: this.reflector.getAllAndOverride<string[] | undefined>(FEATURES, targets) ?? [],
      allowWhenReadOnly:
        this.reflector.getAllAndOverride<boolean | undefined>(ALLOW_READ_ONLY, targets) ?? false,
    });
    request[DECISION] = decision;
    if (!decision.allowed) throw new HttpException(refusalBody(decision), decision.status);
    return true;
  }
}

/**
 * `BillingGuardModule.forRoot({ baseUrl, token, webhookSecret, accountIdOf })` in your app module: the
 * guard on every route (APP_GUARD) and the `BillingGuard` injectable (`@Inject(BILLING_GUARD)`) for your
 * `entitlements.updated` route, which calls `handleEvent` with the raw body.
 */
@Module({})
export class BillingGuardModule {
  static forRoot(options: BillingGuardOptions & { accountIdOf: AccountIdOf }): DynamicModule {
    const { accountIdOf, ...guardOptions } = options;
    return {
      module: BillingGuardModule,
      global: true,
      providers: [
        { provide: BILLING_GUARD, useValue: new BillingGuard(guardOptions) },
        { provide: ACCOUNT_ID_OF, useValue: accountIdOf },
        { provide: APP_GUARD, useClass: EntitlementsGuard },
      ],
      exports: [BILLING_GUARD],
    };
  }
}
